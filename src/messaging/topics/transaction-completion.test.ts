import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { EmbeddedTopicService } from "./embedded-topic-service.js";

let dir: string;
let topics: EmbeddedTopicService;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "sluice-txn-completion-"));
  topics = await EmbeddedTopicService.open(dir, { fsync: "never" });
  await topics.admin.createTopic({ name: "orders", partitions: 2 });
});

afterEach(async () => {
  await topics.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Lets queued work run, one microtask at a time (an end may finish without a macrotask turn), until `done()`. */
async function until(done: () => boolean, steps = 10_000): Promise<boolean> {
  for (let i = 0; i < steps && !done(); i++) await Promise.resolve();
  return done();
}

it("isCompleting is true while an end writes its markers, and only then", async () => {
  const coordinator = topics.transactions;
  const { producerId, producerEpoch } = await coordinator.initProducerId("payments");
  const partitions = [0, 1].map((partition) => ({ topic: "orders", partition }));
  await coordinator.addPartitions("payments", producerId, producerEpoch, partitions);
  expect(coordinator.isCompleting("payments")).toBe(false); // open, not ending
  const ending = coordinator.endTransaction("payments", producerId, producerEpoch, true);
  expect(await until(() => coordinator.isCompleting("payments"))).toBe(true);
  expect(coordinator.describe("payments")?.state).toBe("PrepareCommit");
  await ending;
  expect(coordinator.describe("payments")?.state).toBe("CompleteCommit");
  expect(await until(() => !coordinator.isCompleting("payments"))).toBe(true);
  expect(coordinator.isCompleting("unknown")).toBe(false);
});
