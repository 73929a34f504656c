import type { JetStreamManager } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import type { GroupRecord } from "./nats-group-record.js";
import { NatsGroupStore } from "./nats-group-store.js";
import { ReconnectWatch } from "./reconnect-watch.js";
import { fakeConnectionStatus } from "./test-support/fake-connection-status.js";

/** A connection whose status events the test sends. */
function fakeConnection() {
  const { status, send } = fakeConnectionStatus();
  const nc = { status } as unknown as NatsConnection;
  return { nc, dropAndReconnect: () => (send("disconnect"), send("reconnect")) };
}

/** One key's value with revisions; the first write is stored but its answer never comes. */
function fakeBucket() {
  let value: string | undefined;
  let revision = 0;
  let writes = 0;
  let written: (() => void) | undefined;
  const entry = () =>
    value === undefined
      ? null
      : {
          operation: "PUT",
          revision,
          string: () => value!,
          json: () => JSON.parse(value!) as unknown,
          key: "group.x",
        };
  const store = (next: string): Promise<number> => {
    value = next;
    revision++;
    writes++;
    written?.();
    return writes === 1 ? new Promise<number>(() => undefined) : Promise.resolve(revision);
  };
  const kv = {
    get: () => Promise.resolve(entry()),
    create: (_key: string, next: string) => store(next),
    update: (_key: string, next: string, previous: number) =>
      previous === revision ? store(next) : Promise.reject(new Error("wrong last sequence")),
  } as unknown as KV;
  const firstWrite = new Promise<void>((resolve) => (written = resolve));
  return { kv, firstWrite, writes: () => writes };
}

describe("NatsGroupStore", () => {
  it("a change whose write landed but whose answer was lost is not applied a second time", async () => {
    const { nc, dropAndReconnect } = fakeConnection();
    const bucket = fakeBucket();
    const watch = new ReconnectWatch(nc);
    const store = new NatsGroupStore(bucket.kv, {} as JetStreamManager, "b", watch);
    let applied = 0;
    const joined = store.update("x", (group: GroupRecord) => {
      applied++;
      group.generation++;
      return { result: `member-${applied}`, changed: true };
    });
    await bucket.firstWrite;
    dropAndReconnect();
    await expect(joined).resolves.toBe("member-1");
    expect(applied).toBe(1);
    expect(bucket.writes()).toBe(1);
    watch.close();
  });
});
