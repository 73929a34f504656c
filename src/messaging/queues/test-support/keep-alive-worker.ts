// Runs one awaited queue wait with nothing else holding the process open, then prints
// "settled" and what it received. A timer that does not keep the process alive exits before.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EmbeddedQueueService } from "../embedded-queue-service.js";

const scenario = process.argv[2];
const service = await EmbeddedQueueService.open(mkdtempSync(join(tmpdir(), "sluice-alive-")));
const { QueueUrl } = await service.createQueue({ QueueName: "waits" });
let received = 0;
if (scenario === "long poll") {
  // The loop of a plain consumer: the first poll of an empty queue must not end the process.
  const { Messages } = await service.receiveMessage({ QueueUrl, WaitTimeSeconds: 1 });
  received = Messages.length;
} else if (scenario === "delayed message") {
  await service.sendMessage({ QueueUrl, MessageBody: "later", DelaySeconds: 1 });
  const { Messages } = await service.receiveMessage({ QueueUrl, WaitTimeSeconds: 5 });
  received = Messages.length;
} else if (scenario === "left open") {
  // Background timers (fsync interval, compaction) never hold the process: no close() here.
  await service.sendMessage({ QueueUrl, MessageBody: "kept" });
  process.stdout.write("settled 0\n");
  process.exitCode = 0;
} else throw new Error(`unknown scenario ${scenario}`);
if (scenario !== "left open") {
  await service.close();
  process.stdout.write(`settled ${received}\n`);
}
