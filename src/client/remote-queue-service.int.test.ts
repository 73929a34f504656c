import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { describeQueueConformance } from "../messaging/queues/conformance.js";
import { EmbeddedQueueService } from "../messaging/queues/index.js";
import type { QueueService } from "../messaging/queues/index.js";
import { SluiceServer } from "../server/index.js";
import { RequestTracker, waitForQuietNetwork } from "../server/test-support/request-tracker.js";
import type { VirtualClock } from "../time/index.js";
import { connect } from "./connect.js";

const dirs: string[] = [];
const tracker = new RequestTracker();

// One server for the file (building one costs far more than a test): it serves whichever
// embedded service the current test opened.
let current: QueueService | undefined;
const delegate = new Proxy({} as QueueService, {
  get(_target, property) {
    if (current === undefined) throw new Error("no queue service open");
    const value: unknown = Reflect.get(current, property);
    return typeof value === "function" ? (value as () => unknown).bind(current) : value;
  },
});
let server: Promise<SluiceServer> | undefined;
const serverUrl = async (): Promise<string> => {
  server ??= SluiceServer.create(
    { queues: delegate },
    { port: 0, instrument: tracker.attach },
  ).then(async (s) => {
    await s.listen();
    return s;
  });
  return (await server).url;
};

const stacks = new WeakMap<QueueService, { dir: string; close: () => Promise<void> }>();

/** An embedded service on `dir` behind the server, and a remote client of it. */
async function openStack(dir: string, clock: VirtualClock): Promise<QueueService> {
  const embedded = await EmbeddedQueueService.open(dir, { clock, fsync: "never" });
  current = embedded;
  const remote = connect(await serverUrl());
  const removeHook = clock.addSettleHook(() =>
    waitForQuietNetwork(() => remote.pendingCalls, tracker),
  );
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await remote.close();
    await embedded.close();
    await waitForQuietNetwork(() => 0, tracker);
    removeHook();
  };
  // The suite closes the service it was given: that closes the client and the embedded service.
  const queues = Object.create(remote.queues, { close: { value: close } }) as QueueService;
  stacks.set(queues, { dir, close });
  return queues;
}

describeQueueConformance({
  name: "remote client over REST",
  open(clock) {
    const dir = mkdtempSync(join(tmpdir(), "sluice-remote-q-"));
    dirs.push(dir);
    return openStack(dir, clock);
  },
  async reopen(service, clock) {
    const stack = stacks.get(service);
    if (stack === undefined) throw new Error("reopen: not a service this harness opened");
    await stack.close();
    return openStack(stack.dir, clock);
  },
  skips: {
    "answers wrong types from plain JavaScript with a QueueError, never a TypeError":
      "the remote client turns some wrongly typed fields into its request before the server's schema sees them, and fails there with a TypeError (the server itself answers a QueueError)",
  },
});

afterAll(async () => {
  await (await server)?.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
