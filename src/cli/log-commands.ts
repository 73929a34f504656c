import type { Command } from "commander";
import { inspectLog, repairLog } from "../engine/index.js";
import type { BatchHeader, LogRecord } from "../engine/index.js";

const CODECS = ["none", "gzip", "snappy", "lz4", "zstd"];

function show(bytes: Buffer | null): string {
  if (bytes === null) return "null";
  const text = bytes.toString("utf8");
  return /^[\x20-\x7e]*$/.test(text) ? text : `0x${bytes.toString("hex")}`;
}

function batchLine(position: number, h: BatchHeader): string {
  const lastSequence = h.baseSequence < 0 ? -1 : h.baseSequence + h.lastOffsetDelta;
  return (
    `baseOffset: ${h.baseOffset} lastOffset: ${h.baseOffset + h.lastOffsetDelta} count: ${h.recordCount} ` +
    `baseSequence: ${h.baseSequence} lastSequence: ${lastSequence} producerId: ${h.producerId} producerEpoch: ${h.producerEpoch} ` +
    `partitionLeaderEpoch: ${h.partitionLeaderEpoch} isTransactional: ${(h.attributes & 0x10) !== 0} isControl: ${(h.attributes & 0x20) !== 0} ` +
    `position: ${position} ${(h.attributes & 0x08) !== 0 ? "LogAppendTime" : "CreateTime"}: ${h.maxTimestamp} size: ${h.sizeBytes} ` +
    `magic: 2 compresscodec: ${CODECS[h.attributes & 0x07] ?? "unknown"} crc: ${h.crc} isvalid: true`
  );
}

function recordLine(r: LogRecord): string {
  return (
    `| offset: ${r.offset} CreateTime: ${r.timestamp} keySize: ${r.key?.length ?? -1} valueSize: ${r.value?.length ?? -1} ` +
    `headerKeys: [${r.headers.map((h) => h.key).join(",")}] key: ${show(r.key)} payload: ${show(r.value)}`
  );
}

/** `sluice log dump|verify|repair DIR`: see and fix what is on disk. */
export function registerLogCommands(program: Command): void {
  const log = program.command("log").description("inspect and repair a log directory");

  log
    .command("dump")
    .description("print batches (and with --print-data, records) like kafka-dump-log")
    .argument("<dir>", "log directory")
    .option("--print-data", "print every record too", false)
    .action((dir: string, opts: { printData: boolean }) => {
      let file = "";
      const reports = inspectLog(dir, {
        batch: (segment, position, header) => {
          if (segment !== file) {
            file = segment;
            process.stdout.write(`Dumping ${segment}\n`);
          }
          process.stdout.write(batchLine(position, header) + "\n");
        },
        record: opts.printData ? (r) => void process.stdout.write(recordLine(r) + "\n") : undefined,
      });
      for (const r of reports)
        for (const c of r.corruptions)
          process.stdout.write(
            `CORRUPT ${r.file} position: ${c.position} bytes: ${c.bytes} ${c.message}\n`,
          );
    });

  log
    .command("verify")
    .description("check the CRC and format of every batch; exit 1 when anything is damaged")
    .argument("<dir>", "log directory")
    .option("--json", "print the report as JSON", false)
    .action((dir: string, opts: { json: boolean }) => {
      const reports = inspectLog(dir);
      const damaged = reports.filter((r) => r.corruptions.length > 0);
      if (opts.json) process.stdout.write(JSON.stringify(reports, null, 2) + "\n");
      else {
        for (const r of reports) {
          const status =
            r.corruptions.length === 0
              ? "ok"
              : `DAMAGED (${r.corruptions.length} region${r.corruptions.length > 1 ? "s" : ""})`;
          process.stdout.write(
            `${r.file}: ${r.batches} batches, ${r.records} records, offsets ${r.firstOffset ?? "-"}..${r.lastOffset ?? "-"}, ${r.sizeBytes} bytes: ${status}\n`,
          );
          for (const c of r.corruptions)
            process.stdout.write(`  at byte ${c.position} (${c.bytes} bytes): ${c.message}\n`);
        }
        const records = reports.reduce((n, r) => n + r.records, 0);
        process.stdout.write(
          `${reports.length} segments, ${records} records, ${damaged.length} damaged\n`,
        );
      }
      if (damaged.length > 0) process.exitCode = 1;
    });

  log
    .command("repair")
    .description("cut damaged regions out of segments (kept aside as .corrupt-<position> files)")
    .argument("<dir>", "log directory (must not be open by a writer)")
    .action(async (dir: string) => {
      const report = await repairLog(dir);
      process.stdout.write(
        `repaired ${report.segmentsRepaired} segments, quarantined ${report.bytesQuarantined} bytes\n`,
      );
      for (const f of report.quarantineFiles) process.stdout.write(`  ${f}\n`);
    });
}
