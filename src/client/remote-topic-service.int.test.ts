import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { describeTopicConformance } from "../messaging/topics/conformance.js";
import { EmbeddedTopicService } from "../messaging/topics/embedded-topic-service.js";
import type { TopicService } from "../messaging/topics/index.js";
import type { VirtualClock } from "../time/virtual-clock.js";
import { SluiceServer } from "../server/index.js";
import { connect } from "./connect.js";
import type { RemoteConsumer } from "./remote-topic-service.js";

/**
 * The topics conformance suite against `connect(url).topics`: each service is an embedded one
 * (on the suite's virtual clock) served by its own server, reached only over WebSockets.
 */
const dirs: string[] = [];
const served = new WeakMap<TopicService, { dir: string; close(): Promise<void> }>();

async function serve(dir: string, clock: VirtualClock): Promise<TopicService> {
  const embedded = await EmbeddedTopicService.open(dir, { clock, fsync: "never" });
  const server = await SluiceServer.create({ topics: embedded }, { port: 0 });
  const remote = connect(await server.listen());
  let closed = false;
  const topics = remote.topics;
  const service: TopicService = {
    admin: topics.admin,
    producer: (options) => topics.producer(options),
    consumer: (options) => topics.consumer(options),
    async close() {
      if (closed) return;
      closed = true;
      await remote.close();
      await server.close();
      await embedded.close();
    },
  };
  served.set(service, { dir, close: () => service.close() });
  return service;
}

describeTopicConformance({
  name: "remote client",
  open(clock) {
    const dir = mkdtempSync(join(tmpdir(), "sluice-remote-topics-"));
    dirs.push(dir);
    return serve(dir, clock);
  },
  async reopen(service, clock) {
    const entry = served.get(service);
    if (entry === undefined) throw new Error("reopen: not a service this harness opened");
    await entry.close();
    return serve(entry.dir, clock);
  },
  silence(consumer) {
    (consumer as RemoteConsumer).session.terminate();
  },
});

afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
