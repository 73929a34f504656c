import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

// Tiers by file name: *.test.ts is unit, *.int.test.ts talks to real processes and servers,
// *.e2e.test.ts drives a real browser. Each tier is a project so `npm test` can run them in turn.
export default defineConfig({
  test: {
    reporters: ["default", "json"],
    outputFile: { json: "reports/vitest.json" },
    projects: [
      {
        test: {
          name: "unit",
          include: ["src/**/*.test.ts"],
          exclude: ["src/**/*.int.test.ts", "src/**/*.e2e.test.ts"],
          testTimeout: 20_000,
          // CPU-bound files, one per core. Vitest's default keeps a core for its main process,
          // which sits idle once the files are transformed: on 2 cores that ran them one by one.
          maxWorkers: availableParallelism(),
          // The files of a worker share its modules instead of importing everything again per
          // file: the tier ran in 54 s instead of 110 (import time 54 -> 15 s). Unit tests keep
          // no state between files (each restores fake timers and environment it changes).
          isolate: false,
        },
      },
      {
        test: {
          name: "int",
          include: ["src/**/*.int.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 60_000,
          // Two files at a time: most of them wait on child processes, sockets and timers, not on
          // the CPU. Every file makes its own resources (ports from the kernel, temporary
          // directories, PostgreSQL schemas, NATS clusters), so two never share one.
          maxWorkers: 2,
          // Real processes and servers on a shared 2-core machine: one retry, and the totals name
          // every test that needed it (.ci/totals.mjs), so a flaky test is seen, not hidden.
          retry: 1,
        },
      },
    ],
  },
});
