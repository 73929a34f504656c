import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { describeTopicConformance } from "./conformance.js";
import { EmbeddedConsumer } from "./embedded-consumer.js";
import { EmbeddedTopicService } from "./embedded-topic-service.js";
import type { TopicService } from "./topic-service.js";

const dirs: string[] = [];
const dirOf = new WeakMap<TopicService, string>();

describeTopicConformance({
  name: "embedded",
  async open(clock) {
    const dir = mkdtempSync(join(tmpdir(), "sluice-topics-"));
    dirs.push(dir);
    const service = await EmbeddedTopicService.open(dir, { clock, fsync: "never" });
    dirOf.set(service, dir);
    return service;
  },
  async reopen(service, clock) {
    const dir = dirOf.get(service);
    if (dir === undefined) throw new Error("reopen: not a service this harness opened");
    await service.close();
    const reopened = await EmbeddedTopicService.open(dir, { clock, fsync: "never" });
    dirOf.set(reopened, dir);
    return reopened;
  },
  async crashAndReopen(service, clock) {
    const dir = dirOf.get(service);
    if (dir === undefined) throw new Error("crash: not a service this harness opened");
    (service as EmbeddedTopicService).kill();
    const reopened = await EmbeddedTopicService.open(dir, { clock, fsync: "never" });
    dirOf.set(reopened, dir);
    return reopened;
  },
  silence(consumer) {
    (consumer as EmbeddedConsumer).silence();
  },
});

afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
