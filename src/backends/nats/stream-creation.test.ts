import { JetStreamApiError, type JetStreamManager, type StreamConfig } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";
import { resolveTopicConfig } from "../../messaging/topics/topic-config.js";
import { createPartitionStream, partitionAddress } from "./partition-stream.js";
import { QueueStream } from "./queue-stream.js";

/** A manager whose `streams.add` fails with `errors` in turn, then records the configuration. */
function manager(errors: Error[]) {
  const added: Partial<StreamConfig>[] = [];
  let calls = 0;
  const jsm = {
    streams: {
      add: async (config: Partial<StreamConfig>) => {
        calls++;
        const error = errors.shift();
        if (error !== undefined) throw error;
        added.push(config);
        return { config };
      },
    },
  } as unknown as JetStreamManager;
  return { jsm, added, calls: () => calls };
}

const storeFailed = () =>
  new JetStreamApiError({
    code: 500,
    err_code: 10049,
    description: "error creating store for stream",
  });
const unavailable = () =>
  new JetStreamApiError({
    code: 503,
    err_code: 10008,
    description: "JetStream system temporarily unavailable",
  });

// nats-server answers both now and then while a server catches up with its cluster; the stream's
// name holds its topic's or queue's uid, so a second try makes (or finds) the same stream.
describe("creating a stream tries again on answers that a second try can cure", () => {
  it("a topic's partition stream", async () => {
    const { jsm, added, calls } = manager([storeFailed(), unavailable()]);
    const address = partitionAddress("SLUICE", { uid: "a1b2c3" }, 0);
    await createPartitionStream(jsm, address, resolveTopicConfig({}), 3);
    expect(calls()).toBe(3);
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({ name: address.stream, num_replicas: 3 });
  });

  it("a queue's stream", async () => {
    const { jsm, added, calls } = manager([storeFailed()]);
    const address = { stream: "SLUICE_Q_a1b2", subject: "SLUICE.q.a1b2" };
    await QueueStream.create(jsm, address, { replicas: 3, maxEntryBytes: 1 << 20 });
    expect(calls()).toBe(2);
    expect(added[0]).toMatchObject({ name: address.stream, subjects: [address.subject] });
  });

  it("any other failure is passed on at once", async () => {
    const refused = new JetStreamApiError({
      code: 400,
      err_code: 10058,
      description: "stream name already in use with a different configuration",
    });
    const { jsm, calls } = manager([refused]);
    await expect(
      QueueStream.create(
        jsm,
        { stream: "S", subject: "s" },
        { replicas: 1, maxEntryBytes: 1 << 20 },
      ),
    ).rejects.toThrow("different configuration");
    expect(calls()).toBe(1);
  });
});
