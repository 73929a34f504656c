import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { describeQueueConformance } from "./conformance.js";
import { EmbeddedQueueService } from "./embedded-queue-service.js";
import type { QueueService } from "./queue-service.js";

const dirs: string[] = [];
const dirOf = new WeakMap<QueueService, string>();

describeQueueConformance({
  name: "embedded",
  async open(clock) {
    const dir = mkdtempSync(join(tmpdir(), "sluice-q-"));
    dirs.push(dir);
    const service = await EmbeddedQueueService.open(dir, { clock, fsync: "never" });
    dirOf.set(service, dir);
    return service;
  },
  async reopen(service, clock) {
    const dir = dirOf.get(service);
    if (dir === undefined) throw new Error("reopen: not a service this harness opened");
    await service.close();
    const reopened = await EmbeddedQueueService.open(dir, { clock, fsync: "never" });
    dirOf.set(reopened, dir);
    return reopened;
  },
});

afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
