import { describe, expect, it } from "vitest";
import { isSluiceError } from "../errors/index.js";
import { type Log, openLog } from "./log.js";
import type { LogOptions } from "./log-options.js";
import { SimulatedFileSystem } from "./simulated-file-system.js";

const DIR = "/d/log";
const rec = (i: number) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(`value-${i}`) });
const isIo = (e: unknown): boolean => isSluiceError(e, "SLUICE_IO");

function open(fs: SimulatedFileSystem, options: LogOptions = {}): Promise<Log> {
  // No tail cache: every read goes to the disk.
  return openLog(DIR, { fs, maintenanceIntervalMs: 0, tailCacheBytes: 0, ...options });
}

async function appendAll(log: Log, count: number): Promise<void> {
  for (let i = 0; i < count; i += 10)
    await log.append(Array.from({ length: 10 }, (_, k) => rec(i + k)));
}

function values(log: Log): string[] {
  return log.read(0, { maxRecords: 1000 }).map((r) => r.value!.toString());
}

const expected = (count: number): string[] => Array.from({ length: count }, (_, i) => `value-${i}`);

/** A read the disk refuses (a bad sector, a failing device) is not damage to be cut away. */
describe("a read the disk refuses", () => {
  it("fails that read with SLUICE_IO; the log goes on serving reads and appends", async () => {
    const fs = new SimulatedFileSystem(3);
    const log = await open(fs, { fsync: "always" });
    await appendAll(log, 50);
    fs.failNextReads(1, DIR);
    expect(() => log.read(0)).toThrow(expect.toSatisfy(isIo));
    expect(values(log)).toEqual(expected(50));
    await log.append([rec(50)]);
    expect(values(log)).toEqual(expected(51));
    await log.close();
  });

  it("during recovery refuses the open and cuts nothing; the next open has every record", async () => {
    for (const failures of [1, 2, 3, 5]) {
      const fs = new SimulatedFileSystem(failures);
      const log = await open(fs, { fsync: "always", segmentBytes: 1024 });
      await appendAll(log, 100);
      log.kill();
      fs.crash(); // no clean shutdown: the open scans what the checkpoint does not vouch for
      fs.failNextReads(failures, DIR);
      await expect(open(fs)).rejects.toSatisfy(isIo);
      fs.clearFaults();
      // The refused open released the directory's lock and changed nothing on the disk.
      const reopened = await open(fs);
      expect(values(reopened)).toEqual(expected(100));
      await reopened.close();
    }
  });
});
