import { describe, expect, it } from "vitest";
import { inspectLog, repairLog } from "./log-inspector.js";
import { openLog } from "./log.js";
import { SimulatedFileSystem } from "./simulated-file-system.js";

const DIR = "/data/inspect";

async function writeLog(fs: SimulatedFileSystem): Promise<void> {
  const log = await openLog(DIR, { fs, maintenanceIntervalMs: 0 });
  for (let i = 0; i < 20; i++)
    await log.append([
      {
        key: Buffer.from(`k${i}`.padEnd(3, "_")),
        value: Buffer.from(`value ${i}`.padEnd(20, ".")),
      },
    ]);
  await log.close();
}

describe("verify and repair", () => {
  it("verify reports every batch and record of a healthy log", async () => {
    const fs = new SimulatedFileSystem();
    await writeLog(fs);
    const seen: number[] = [];
    const [report] = inspectLog(DIR, { record: (r) => seen.push(r.offset) }, fs);
    expect(report).toMatchObject({
      batches: 20,
      records: 20,
      firstOffset: 0,
      lastOffset: 19,
      corruptions: [],
    });
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it("finds middle corruption, and repair cuts out only the damaged batch", async () => {
    const fs = new SimulatedFileSystem();
    await writeLog(fs);
    const path = `${DIR}/00000000000000000000.log`;
    const bytes = Buffer.from(fs.rawFile(path));
    const batchSize = bytes.length / 20;
    bytes[batchSize * 7 + 70]! ^= 0xff; // inside batch 7's record
    fs.setRawFile(path, bytes);
    await expect(openLog(DIR, { fs })).rejects.toMatchObject({ code: "SLUICE_CORRUPT" });
    const [report] = inspectLog(DIR, {}, fs);
    expect(report!.corruptions).toEqual([
      expect.objectContaining({ position: batchSize * 7, bytes: batchSize }),
    ]);
    expect(report!.records).toBe(19);
    const repaired = await repairLog(DIR, fs);
    expect(repaired).toMatchObject({ segmentsRepaired: 1, bytesQuarantined: batchSize });
    expect(fs.exists(repaired.quarantineFiles[0]!)).toBe(true);
    const log = await openLog(DIR, { fs, maintenanceIntervalMs: 0 });
    const offsets = log.read(0, { maxRecords: 100 }).map((r) => r.offset);
    expect(offsets).toEqual(Array.from({ length: 20 }, (_, i) => i).filter((i) => i !== 7));
    expect(log.logEndOffset).toBe(20);
    await log.close();
  });
});
