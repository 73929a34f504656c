import { describe, expect, it } from "vitest";
import { VirtualClock } from "../time/index.js";
import { compactLog } from "./compactor.js";
import type { FileSystem } from "./file-system.js";
import { type Log, openLog } from "./log.js";
import { type BatchHeader, decodeRecords, encodeBatch, readBatchHeader } from "./record-batch.js";
import type { LogRecord } from "./record.js";
import { SimulatedFileSystem, seededRandom } from "./simulated-file-system.js";
import {
  TRANSACTIONAL_BIT,
  encodeMarker,
  isControlBatch,
  isTransactionalBatch,
  markerTypeOf,
} from "./transaction-marker.js";

// Power loss in the middle of a compaction of a log written by plain producers and by
// transactions that commit or abort: the process dies at its k-th rename or directory sync, and
// the simulated disk then keeps or loses, from the seed, whatever was not yet durable. For every
// k, after recovery, what a read_committed reader sees of each key is what it saw before the
// compaction, and no transaction is left open (a marker gone before its transaction's batches
// would leave one open for good: the last stable offset would never move again).

const DIR = "/data/log";

/** A disk whose process dies, once armed, at its k-th rename or directory sync from then on. */
class DyingFileSystem {
  private calls = 0;
  private dieAt = Number.POSITIVE_INFINITY;

  constructor(readonly disk: SimulatedFileSystem) {}

  arm(k: number): void {
    this.dieAt = this.calls + k;
  }

  /** The file system the log uses: it dies at a call, which throws, as does every later one. */
  view(): FileSystem {
    const step = (): void => {
      if (++this.calls >= this.dieAt) throw new Error("the process died here");
    };
    const disk = this.disk;
    return new Proxy(disk, {
      get: (target, name, receiver) => {
        if (name === "rename")
          return (from: string, to: string) => {
            step();
            disk.rename(from, to);
          };
        if (name === "syncDir")
          return async (dir: string) => {
            step();
            await disk.syncDir(dir);
          };
        const value = Reflect.get(target, name, receiver) as unknown;
        return typeof value === "function" ? (value as () => unknown).bind(disk) : value;
      },
    });
  }
}

/** Writes the same history for a seed: plain records, tombstones and transactions over few keys. */
async function writeHistory(log: Log, clock: VirtualClock, seed: number): Promise<void> {
  const random = seededRandom(seed);
  const pick = (n: number): number => Math.floor(random() * n);
  const key = (): Buffer => Buffer.from(`k${pick(6)}`);
  const value = (i: number): Buffer | null => (random() < 0.15 ? null : Buffer.from(`v${i}`));
  const sequences = new Map<number, number>();
  for (let i = 0; i < 120; i++) {
    const producerId = 1 + pick(3);
    if (random() < 0.5) {
      await log.appendRawBatch(
        encodeBatch([{ key: key(), value: value(i) }], {
          baseOffset: 0,
          defaultTimestamp: clock.now(),
        }),
      );
    } else {
      const records = Array.from({ length: 1 + pick(2) }, (_, j) => ({
        key: key(),
        value: value(i * 10 + j),
      }));
      const sequence = sequences.get(producerId) ?? 0;
      sequences.set(producerId, sequence + records.length);
      await log.appendRawBatch(
        encodeBatch(records, {
          baseOffset: 0,
          defaultTimestamp: clock.now(),
          attributes: TRANSACTIONAL_BIT,
          producer: { producerId, producerEpoch: 0, baseSequence: sequence },
        }),
        "transactional",
      );
      const type = random() < 0.35 ? "abort" : "commit";
      await log.appendRawBatch(encodeMarker(producerId, 0, type, clock.now()), "control");
    }
    if (pick(10) === 0) log.roll();
  }
  log.roll();
}

/** What a read_committed reader sees (key -> value, deleted keys left out), and open transactions. */
function committedView(log: Log): { view: Map<string, string>; open: number[] } {
  const bytes = log.readBatches(log.logStartOffset, 1 << 24);
  const newest = new Map<string, { offset: number; value: string | null }>();
  const pending = new Map<number, LogRecord[]>();
  const open = new Set<number>();
  const apply = (r: LogRecord): void => {
    const k = r.key!.toString();
    if ((newest.get(k)?.offset ?? -1) < r.offset)
      newest.set(k, { offset: r.offset, value: r.value?.toString() ?? null });
  };
  for (let at = 0; at < bytes.length;) {
    const header = readBatchHeader(bytes, at) as BatchHeader;
    const records = decodeRecords(bytes, at, header) as LogRecord[];
    if (isControlBatch(header.attributes)) {
      if (markerTypeOf(records[0]?.key ?? null) === "commit")
        (pending.get(header.producerId) ?? []).forEach(apply);
      pending.delete(header.producerId);
      open.delete(header.producerId);
    } else if (isTransactionalBatch(header.attributes)) {
      open.add(header.producerId);
      const list = pending.get(header.producerId) ?? [];
      list.push(...records.filter((r) => r.key !== null));
      pending.set(header.producerId, list);
    } else records.filter((r) => r.key !== null).forEach(apply);
    at += header.sizeBytes;
  }
  const view = new Map<string, string>();
  for (const [k, { value }] of newest) if (value !== null) view.set(k, value);
  return { view, open: [...open].sort() };
}

describe("power loss in the middle of a compaction with transactions", () => {
  for (const seed of [1, 2, 3]) {
    it(`keeps what read_committed readers see, and leaves no transaction open (seed ${seed})`, async () => {
      let crashes = 0;
      for (let dieAt = 1; ; dieAt++) {
        const clock = new VirtualClock(1_000_000);
        const disk = new SimulatedFileSystem(seed * 1000 + dieAt);
        const dying = new DyingFileSystem(disk);
        const options = {
          clock,
          fsync: "always" as const,
          segmentBytes: 2048,
          maintenanceIntervalMs: 0,
          cleanupPolicy: "compact" as const,
          deleteRetentionMs: 0,
          producerStateRetentionMs: 0,
        };
        const log = await openLog(DIR, { ...options, fs: dying.view() });
        await writeHistory(log, clock, seed);
        await clock.advance(1); // every tombstone, marker and producer batch past its retention
        const before = committedView(log);
        expect(before.open).toEqual([]);
        dying.arm(dieAt);
        const finished = await compactLog(log).then(
          () => true,
          () => false,
        );
        log.kill();
        disk.crash();
        const again = await openLog(DIR, { ...options, fs: disk });
        const after = committedView(again);
        expect(after.view, `died at call ${dieAt}`).toEqual(before.view);
        expect(after.open, `died at call ${dieAt}`).toEqual([]);
        await again.close();
        if (finished) break;
        crashes++;
      }
      expect(crashes).toBeGreaterThan(3);
    });
  }
});
