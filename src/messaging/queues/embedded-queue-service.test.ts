import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { describeQueueConformance } from "./conformance.js";
import { EmbeddedQueueService } from "./embedded-queue-service.js";
import type { QueueService } from "./queue-service.js";

const dirs: string[] = [];
const dirOf = new WeakMap<QueueService, string>();

// Once with recent bodies held in memory (the default), once with every body read from the log.
for (const [name, hotBodyBytes] of [
  ["embedded", undefined],
  ["embedded, every body read from the log", 0],
] as const) {
  const options = {
    fsync: "never",
    ...(hotBodyBytes === undefined ? {} : { hotBodyBytes }),
  } as const;
  describeQueueConformance({
    name,
    async open(clock) {
      const dir = mkdtempSync(join(tmpdir(), "sluice-q-"));
      dirs.push(dir);
      const service = await EmbeddedQueueService.open(dir, { clock, ...options });
      dirOf.set(service, dir);
      return service;
    },
    async reopen(service, clock) {
      const dir = dirOf.get(service);
      if (dir === undefined) throw new Error("reopen: not a service this harness opened");
      await service.close();
      const reopened = await EmbeddedQueueService.open(dir, { clock, ...options });
      dirOf.set(reopened, dir);
      return reopened;
    },
  });
}

afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
