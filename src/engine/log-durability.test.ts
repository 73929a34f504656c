import { describe, expect, it } from "vitest";
import { isSluiceError } from "../errors/index.js";
import { VirtualClock } from "../time/index.js";
import { compactLog } from "./compactor.js";
import { type Log, openLog } from "./log.js";
import type { LogOptions } from "./log-options.js";
import { encodeBatch, readBatchHeader } from "./record-batch.js";
import { SimulatedFileSystem } from "./simulated-file-system.js";

const DIR = "/d/log";
const rec = (i: number, key = `k${i}`) => ({
  key: Buffer.from(key),
  value: Buffer.from(`value-${i}`.padEnd(60, ".")),
});

function open(fs: SimulatedFileSystem, options: LogOptions = {}): Promise<Log> {
  return openLog(DIR, { fs, maintenanceIntervalMs: 0, ...options });
}

describe('group commit under fsync "always"', () => {
  it("callers released by one fdatasync share the next one instead of alternating rounds", async () => {
    const fs = new SimulatedFileSystem();
    const log = await open(fs, { fsync: "always" });
    const before = fs.syncCount;
    // Four writers, each appending again as soon as its last append is durable, from a
    // setImmediate callback as a queue hands over the records of an event-loop turn.
    const rounds = 20;
    const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    await Promise.all(
      Array.from({ length: 4 }, async (_, writer) => {
        for (let i = 0; i < rounds; i++) {
          await nextTurn();
          await log.append([rec(writer * rounds + i)]);
        }
      }),
    );
    expect(log.logEndOffset).toBe(4 * rounds);
    // About one fdatasync per round of four appends; when a new fdatasync starts without waiting
    // for the writers the last one released, it takes two a round (40 here).
    expect(fs.syncCount - before).toBeLessThanOrEqual(rounds + 4);
    await log.close();
  });

  it("waits for released callers whose next append comes a few turns later", async () => {
    const fs = new SimulatedFileSystem();
    const log = await open(fs, { fsync: "always" });
    const before = fs.syncCount;
    const rounds = 20;
    const turns = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
    };
    // Two writers append a turn after their last append resolved (producers), two three turns
    // after (consumers: a receive's turn, then the delete's).
    await Promise.all(
      [1, 1, 3, 3].map(async (delay, writer) => {
        for (let i = 0; i < rounds; i++) {
          await turns(delay);
          await log.append([rec(writer * rounds + i)]);
        }
      }),
    );
    expect(log.logEndOffset).toBe(4 * rounds);
    expect(fs.syncCount - before).toBeLessThanOrEqual(rounds + 4);
    await log.close();
  });
});

describe("what readers see, by fsync mode", () => {
  it('fsync "always": a record is readable only once its append can resolve', async () => {
    const log = await open(new SimulatedFileSystem(), { fsync: "always" });
    const appended = log.append([rec(0)]);
    expect(log.logEndOffset).toBe(1);
    expect(log.highWatermark).toBe(0);
    expect(log.read(0)).toEqual([]);
    expect(log.readBatches(0).length).toBe(0);
    expect(log.offsetForTimestamp(0)).toBeUndefined();
    // The writer itself may read what it wrote, if it asks to.
    expect(log.read(0, { includeUnsynced: true })).toHaveLength(1);
    await appended;
    expect(log.read(0)).toHaveLength(1);
    await log.close();
  });

  it('fsync "always": a tail waits for durability, not for the write', async () => {
    const log = await open(new SimulatedFileSystem(), { fsync: "always" });
    const seen: number[] = [];
    const controller = new AbortController();
    const following = (async () => {
      for await (const r of log.tail(0, { signal: controller.signal })) seen.push(r.offset);
    })();
    const appended = log.append([rec(0)]);
    await Promise.resolve();
    expect(seen).toEqual([]);
    await appended;
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual([0]);
    controller.abort();
    await following;
    await log.close();
  });

  it('fsync "interval" and "never": readers see every written record at once', async () => {
    for (const fsync of [{ intervalMs: 50 }, "never"] as const) {
      const log = await open(new SimulatedFileSystem(), { fsync });
      void log.append([rec(0)]);
      expect(log.read(0)).toHaveLength(1);
      await log.close();
    }
  });

  it("an append rejected by a failed fsync is never readable, then or after a reopen", async () => {
    const fs = new SimulatedFileSystem();
    const log = await open(fs, { fsync: "always" });
    await log.append([rec(0)]);
    fs.failNextSyncs(1);
    await expect(log.append([rec(1)])).rejects.toMatchObject({ code: "SLUICE_IO" });
    expect(log.read(0, { maxRecords: 10 }).map((r) => r.offset)).toEqual([0]);
    await log.close().catch(() => undefined);
    for (const crash of [false, true]) {
      if (crash) fs.crash();
      const again = await open(fs, { fsync: "always" });
      expect(again.read(0, { maxRecords: 10 }).map((r) => r.offset)).toEqual([0]);
      expect(again.logEndOffset).toBe(1);
      await again.close();
    }
  });
});

describe("directory entries are durable before what depends on them is acknowledged", () => {
  it("an acknowledged append in a freshly rolled segment survives losing unsynced entries", async () => {
    const fs = new SimulatedFileSystem();
    const log = await open(fs, { fsync: "always", segmentBytes: 1024 });
    for (let i = 0; i < 40; i++) await log.append([rec(i)]);
    expect(log.segmentInfos().length).toBeGreaterThan(2);
    log.kill();
    fs.crash({ unsyncedEntries: "lose", unsyncedPages: "lose" });
    const again = await open(fs);
    expect(again.read(0, { maxRecords: 100 }).map((r) => r.offset)).toEqual(
      Array.from({ length: 40 }, (_, i) => i),
    );
    await again.close();
  });

  it("a new log's directory survives a power loss once the first append is acknowledged", async () => {
    const fs = new SimulatedFileSystem();
    const log = await openLog("/new/deep/log", { fs, fsync: "always", maintenanceIntervalMs: 0 });
    await log.append([rec(0)]);
    log.kill();
    fs.crash({ unsyncedEntries: "lose", unsyncedPages: "lose" });
    const again = await openLog("/new/deep/log", { fs, maintenanceIntervalMs: 0 });
    expect(again.read(0)).toHaveLength(1);
    await again.close();
  });

  it("checkpoints written atomically survive losing unsynced entries", async () => {
    const fs = new SimulatedFileSystem();
    const log = await open(fs, { fsync: "always" });
    for (let i = 0; i < 10; i++) await log.append([rec(i)]);
    await log.deleteRecordsBefore(6);
    log.kill();
    fs.crash({ unsyncedEntries: "lose", unsyncedPages: "lose" });
    const again = await open(fs);
    expect(again.logStartOffset).toBe(6);
    await again.close();
  });
});

describe("dropping segments", () => {
  /** A log of 60 records in small segments; `kept`: the base of the segment holding offset 40. */
  async function logOfSegments(fs: SimulatedFileSystem): Promise<{ log: Log; kept: number }> {
    const log = await open(fs, { fsync: "always", segmentBytes: 1024 });
    for (let i = 0; i < 60; i++) await log.append([rec(i)]);
    const bases = log.segmentInfos().map((s) => s.baseOffset);
    expect(bases.length).toBeGreaterThan(4);
    return { log, kept: bases.filter((b) => b <= 40).at(-1)! };
  }

  const segmentFilesBelow = (fs: SimulatedFileSystem, base: number): string[] =>
    fs.list(DIR).filter((n) => /\.(log|index|timeindex)$/.test(n) && Number(n.slice(0, 20)) < base);

  it("unlinks dropped segment files off the event loop, and close waits for them", async () => {
    const fs = new SimulatedFileSystem();
    const { log, kept } = await logOfSegments(fs);
    const onTheLoop: string[] = [];
    const unlink = fs.unlink.bind(fs);
    fs.unlink = (path) => {
      onTheLoop.push(path);
      unlink(path);
    };
    await log.deleteRecordsBefore(40);
    expect(onTheLoop).toEqual([]);
    expect(log.logStartOffset).toBe(40);
    await log.close();
    expect(segmentFilesBelow(fs, kept)).toEqual([]);
  });

  it("a crash while dropped segments are being unlinked leaves a log that recovery cuts at its start", async () => {
    for (let seed = 1; seed <= 20; seed++) {
      const fs = new SimulatedFileSystem(seed);
      const { log, kept } = await logOfSegments(fs);
      let unlinks = 0;
      const unlinkAsync = fs.unlinkAsync.bind(fs);
      // Power fails while the unlinks are in flight (none has landed): the files stay behind.
      fs.unlinkAsync = (path) => {
        const landing = unlinkAsync(path);
        if (++unlinks === 1 + (seed % 9)) {
          log.kill();
          fs.crash();
        }
        return landing;
      };
      await log.deleteRecordsBefore(40);
      expect(unlinks).toBeGreaterThan(seed % 9);
      fs.unlinkAsync = unlinkAsync;
      const again = await open(fs);
      expect(again.logStartOffset).toBe(40);
      expect(again.read(40, { maxRecords: 100 }).map((r) => r.offset)).toEqual(
        Array.from({ length: 20 }, (_, i) => 40 + i),
      );
      expect(segmentFilesBelow(fs, kept)).toEqual([]);
      await again.close();
    }
  });
});

describe("retention and seals", () => {
  it("retention racing a queued seal leaves no orphan index files", async () => {
    const clock = new VirtualClock(1_000_000);
    const fs = new SimulatedFileSystem();
    const log = await open(fs, { clock, segmentBytes: 1024, retentionBytes: 1 });
    for (let i = 0; i < 40; i++) log.append([rec(i)]).catch(() => undefined);
    await log.enforceRetention();
    await log.close();
    const names = fs.list(DIR);
    const stems = new Set(names.filter((n) => n.endsWith(".log")).map((n) => n.slice(0, 20)));
    const orphans = names.filter(
      (n) => /\.(index|timeindex)$/.test(n) && !stems.has(n.slice(0, 20)),
    );
    expect(orphans).toEqual([]);
  });

  it("I/O on a closed file handle is an error, never a silent success", async () => {
    const fs = new SimulatedFileSystem();
    fs.mkdir("/h");
    const handle = fs.open("/h/f", "write");
    handle.close();
    await expect(handle.sync()).rejects.toMatchObject({ code: "SLUICE_IO" });
    expect(() => handle.write(Buffer.from("x"), 0)).toThrow(/EBADF/);
  });
});

describe("compaction beside a segment's seal", () => {
  it("waits for a just-rolled segment's seal before rewriting it: the log keeps working", async () => {
    // The seal's fdatasync of a rolled segment is held until released, as a slow disk would.
    const fs = new SimulatedFileSystem();
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const open = fs.open.bind(fs);
    fs.open = (path, mode) => {
      const handle = open(path, mode);
      if (!path.endsWith(".log")) return handle;
      return {
        path: handle.path,
        size: () => handle.size(),
        read: (target, targetOffset, length, position) =>
          handle.read(target, targetOffset, length, position),
        write: (source, position) => handle.write(source, position),
        truncate: (length) => handle.truncate(length),
        close: () => handle.close(),
        sync: async (options) => {
          await held;
          return handle.sync(options);
        },
      };
    };
    const log = await openLog(DIR, {
      fs,
      maintenanceIntervalMs: 0,
      cleanupPolicy: "compact",
      fsync: "never",
    });
    for (let i = 0; i < 6; i++) await log.append([rec(i, "same")]);
    log.roll();
    await log.append([rec(6, "other")]);
    const compaction = compactLog(log);
    await new Promise((resolve) => setTimeout(resolve, 20));
    release();
    expect((await compaction).recordsRemoved).toBe(5);
    await new Promise((resolve) => setTimeout(resolve, 20)); // the seal's fdatasync settles
    expect((await log.append([rec(7)])).baseOffset).toBe(7);
    expect(log.read(0).map((r) => r.offset)).toEqual([5, 6, 7]);
    await log.close();
  });
});

describe("compaction keeps batch headers as Kafka's cleaner does", () => {
  it("keeps base offset, last offset delta, producer, leader epoch and attributes", async () => {
    const fs = new SimulatedFileSystem();
    const log = await open(fs, { cleanupPolicy: "compact", segmentBytes: 4096 });
    // A producer batch with a leader epoch and a sequence; its first record will be superseded.
    const produced = encodeBatch([rec(0, "a"), rec(1, "b"), rec(2, "c")], {
      baseOffset: 0,
      defaultTimestamp: 1_000,
      producer: { producerId: 42, producerEpoch: 3, baseSequence: 7 },
      partitionLeaderEpoch: 5,
    });
    await log.appendRawBatch(produced);
    await log.append([rec(3, "a"), rec(4, "c")]); // supersedes a and c: the batch's last record
    log.roll();
    await compactLog(log);
    const first = readBatchHeader(log.readBatches(0), 0);
    if (isSluiceError(first)) throw first;
    expect(first).toMatchObject({
      baseOffset: 0,
      lastOffsetDelta: 2,
      recordCount: 1,
      producerId: 42,
      producerEpoch: 3,
      baseSequence: 7,
      partitionLeaderEpoch: 5,
    });
    expect(log.read(0).map((r) => r.key!.toString())).toEqual(["b", "a", "c"]);
    // The next append still gets the offset after the compacted batch's last one.
    expect((await log.append([rec(5)])).baseOffset).toBe(5);
    await log.close();
  });

  it("an emptied last batch stays as an empty batch, so the segment still ends where the next begins", async () => {
    const fs = new SimulatedFileSystem();
    const log = await open(fs, { cleanupPolicy: "compact" });
    await log.append([rec(0, "x")]);
    await log.append([rec(1, "x")]);
    log.roll();
    await log.append([rec(2, "x")]);
    log.roll();
    await compactLog(log);
    await log.close();
    const again = await open(fs); // refuses if a segment ended before the next one begins
    expect(again.read(0).map((r) => r.offset)).toEqual([2]);
    await again.close();
  });
});
