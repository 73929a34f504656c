import { readdirSync, statSync } from "node:fs";
import type { Command } from "commander";
import { SluiceError, isSluiceError } from "../errors/index.js";
import type { BatchHeader, LogRecord } from "../engine/index.js";

/** Exit codes of `sluice log …`, listed in docs/engine.md. */
export const LOG_EXIT = {
  ok: 0,
  /** verify found a damaged region, or dump printed CORRUPT. */
  damaged: 1,
  /** bad usage or a path that is not a log directory. */
  usage: 2,
  /** another live process has the log open for writing (repair). */
  locked: 3,
  /** reading or writing the files failed. */
  failed: 4,
} as const;

/** A segment file: its base offset in 20 digits (see docs/engine.md, on-disk format). */
const SEGMENT_FILE = /^\d{20}\.log$/;

/**
 * Fails unless `dir` is a directory holding at least one segment: a mistyped path is no "0
 * damaged". Each error names the <dir> argument, as the help does.
 */
function requireLogDir(dir: string): void {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== "ENOENT") throw cause;
    throw new SluiceError("SLUICE_NOT_FOUND", `dir: log directory ${dir} does not exist`, {
      field: "dir",
      details: { dir },
    });
  }
  if (!isDirectory)
    throw new SluiceError("SLUICE_VALIDATION", `dir: ${dir} is not a directory`, {
      field: "dir",
      details: { dir },
    });
  if (!readdirSync(dir).some((name) => SEGMENT_FILE.test(name)))
    throw new SluiceError(
      "SLUICE_NOT_FOUND",
      `dir: ${dir} holds no log segments (no <20-digit base offset>.log files): not a log directory?`,
      { field: "dir", details: { dir } },
    );
}

function exitCodeFor(error: unknown): number {
  if (isSluiceError(error, "SLUICE_VALIDATION") || isSluiceError(error, "SLUICE_NOT_FOUND"))
    return LOG_EXIT.usage;
  if (isSluiceError(error, "SLUICE_LOCKED")) return LOG_EXIT.locked;
  if (isSluiceError(error, "SLUICE_CORRUPT")) return LOG_EXIT.damaged;
  return LOG_EXIT.failed;
}

/** Runs a command's action, turning its result and errors into the documented exit codes. */
function withExitCode<A extends unknown[]>(
  action: (...args: A) => number | Promise<number>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      process.exitCode = await action(...args);
    } catch (error) {
      const text = isSluiceError(error)
        ? `${error.code}: ${error.message}`
        : error instanceof Error
          ? (error.stack ?? error.message)
          : String(error);
      process.stderr.write(`sluice: ${text}\n`);
      process.exitCode = exitCodeFor(error);
    }
  };
}

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
  const log = program
    .command("log")
    .description("inspect and repair a log directory")
    // Usage errors exit 2 (commander's own 1 would read as "damage found"); help exits 0.
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : LOG_EXIT.usage));

  log
    .command("dump")
    .description("print batches (and with --print-data, records) like kafka-dump-log")
    .argument("<dir>", "log directory")
    .option("--print-data", "print every record too", false)
    .action(
      withExitCode(async (dir: string, opts: { printData: boolean }) => {
        requireLogDir(dir);
        const { inspectLog } = await import("../engine/index.js");
        let file = "";
        const reports = inspectLog(dir, {
          batch: (segment, position, header) => {
            if (segment !== file) {
              file = segment;
              process.stdout.write(`Dumping ${segment}\n`);
            }
            process.stdout.write(batchLine(position, header) + "\n");
          },
          record: opts.printData
            ? (r) => void process.stdout.write(recordLine(r) + "\n")
            : undefined,
        });
        let corrupt = 0;
        for (const r of reports)
          for (const c of r.corruptions) {
            corrupt++;
            process.stdout.write(
              `CORRUPT ${r.file} position: ${c.position} bytes: ${c.bytes} ${c.message}\n`,
            );
          }
        return corrupt > 0 ? LOG_EXIT.damaged : LOG_EXIT.ok;
      }),
    );

  log
    .command("verify")
    .description("check the CRC and format of every batch; exit 1 when anything is damaged")
    .argument("<dir>", "log directory")
    .option("--json", "print the report as JSON", false)
    .action(
      withExitCode(async (dir: string, opts: { json: boolean }) => {
        requireLogDir(dir);
        const { inspectLog } = await import("../engine/index.js");
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
            if (r.preallocatedBytes > 0)
              process.stdout.write(
                `  the last ${r.preallocatedBytes} bytes are zeros written ahead of the appends (fsync "always"; kept by recovery)\n`,
              );
            for (const c of r.corruptions)
              process.stdout.write(`  at byte ${c.position} (${c.bytes} bytes): ${c.message}\n`);
          }
          const records = reports.reduce((n, r) => n + r.records, 0);
          process.stdout.write(
            `${reports.length} segments, ${records} records, ${damaged.length} damaged\n`,
          );
        }
        return damaged.length > 0 ? LOG_EXIT.damaged : LOG_EXIT.ok;
      }),
    );

  log
    .command("repair")
    .description("cut damaged regions out of segments (kept aside as .corrupt-<position> files)")
    .argument("<dir>", "log directory (must not be open by a writer)")
    .action(
      withExitCode(async (dir: string) => {
        requireLogDir(dir);
        const { repairLog } = await import("../engine/index.js");
        const report = await repairLog(dir);
        process.stdout.write(
          `repaired ${report.segmentsRepaired} segments, quarantined ${report.bytesQuarantined} bytes\n`,
        );
        for (const f of report.quarantineFiles) process.stdout.write(`  ${f}\n`);
        return LOG_EXIT.ok;
      }),
    );
}
