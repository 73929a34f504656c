/**
 * A replay's states as it runs, on the virtual clock: RUNNING while its events are replayed,
 * CANCELLING then CANCELLED when cancelled, FAILED (with its StateReason) when its archive goes
 * away. Each replayed batch is held until the clock moves: the bus's log is synced on every
 * append, and a sync of it waits a second of virtual time, so the test decides when the replay
 * may go on and looks at it in between.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  type FileHandle,
  type FileSystem,
  type OpenMode,
  nodeFileSystem,
} from "../../engine/index.js";
import type { SluiceError } from "../../errors/index.js";
import type { Clock } from "../../time/index.js";
import { VirtualClock } from "../../time/virtual-clock.js";
import { EmbeddedEventBus } from "./embedded-event-bus.js";
import type { PutEventsRequestEntry } from "./event-bus-service.js";

const ACCOUNT = "000000000000";
const BUS_ARN = `arn:aws:events:us-east-1:${ACCOUNT}:event-bus/default`;
const ARCHIVE_ARN = `arn:aws:events:us-east-1:${ACCOUNT}:archive/orders`;
/** Virtual time one sync of the bus's log takes while syncs are slow. */
const SYNC_MS = 1_000;
/** Events archived; a replay reads them 500 at a time, so it takes three batches. */
const EVENTS = 1_200;

/** The disk, except that while `slow` a sync of a file under `under` waits SYNC_MS on the clock. */
class SlowSyncs implements FileSystem {
  slow = false;
  /** Slow syncs waiting for the clock. */
  waiting = 0;

  constructor(
    private readonly under: string,
    private readonly clock: Clock,
    private readonly disk: FileSystem = nodeFileSystem,
  ) {}

  open(path: string, mode: OpenMode): FileHandle {
    const handle = this.disk.open(path, mode);
    if (!path.startsWith(this.under)) return handle;
    return {
      path: handle.path,
      size: () => handle.size(),
      read: (target, targetOffset, length, position) =>
        handle.read(target, targetOffset, length, position),
      write: (source, position) => handle.write(source, position),
      sync: async (options) => {
        if (this.slow) {
          this.waiting++;
          await this.clock.sleep(SYNC_MS).finally(() => this.waiting--);
        }
        await handle.sync(options);
      },
      truncate: (length) => handle.truncate(length),
      close: () => handle.close(),
    };
  }

  exists = (path: string): boolean => this.disk.exists(path);
  list = (dir: string): string[] => this.disk.list(dir);
  mkdir = (dir: string): void => this.disk.mkdir(dir);
  rename = (from: string, to: string): void => this.disk.rename(from, to);
  link = (existing: string, to: string): void => this.disk.link(existing, to);
  unlink = (path: string): void => this.disk.unlink(path);
  unlinkAsync = (path: string): Promise<void> => this.disk.unlinkAsync(path);
  removeDir = (dir: string): Promise<void> => this.disk.removeDir(dir);
  readFile = (path: string): Buffer => this.disk.readFile(path);
  writeFileAtomic = (path: string, data: Buffer): Promise<void> =>
    this.disk.writeFileAtomic(path, data);
  syncDir = (dir: string): Promise<void> => this.disk.syncDir(dir);
}

interface Setup {
  readonly bus: EmbeddedEventBus;
  readonly clock: VirtualClock;
  readonly syncs: SlowSyncs;
  /** `detail.n` of each replayed event, in the order the rule got them. */
  readonly replayed: number[];
  /** When event n was put (its archive time). */
  readonly putAt: number[];
  readonly startMs: number;
  readonly endMs: number;
}

const dirs: string[] = [];
const open: Setup[] = [];

afterEach(async () => {
  for (const { bus, clock, syncs } of open.splice(0)) {
    syncs.slow = false;
    await clock.advance(10 * SYNC_MS);
    await bus.close();
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown>): Promise<SluiceError & { ebError?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as SluiceError & { ebError?: string };
  }
  throw new Error("expected a rejection");
}

/** Lets work that is not waiting for the clock run, until `done` holds. */
async function settleUntil(done: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 10_000; i++) {
    if (await done()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`never reached: ${what}`);
}

/**
 * A bus with an archive of EVENTS events (n = 0, 1, ...; ten put per millisecond) and a rule
 * that records the replayed ones; syncs are slow from here on.
 */
async function archived(): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), "sluice-replay-"));
  dirs.push(dir);
  const clock = new VirtualClock(Date.UTC(2026, 0, 1));
  const syncs = new SlowSyncs(join(dir, "buses", "default"), clock);
  const bus = await EmbeddedEventBus.open(dir, { clock, fs: syncs, fsync: "always" });
  const replayed: number[] = [];
  const putAt: number[] = [];
  const setup: Setup = { bus, clock, syncs, replayed, putAt, startMs: 0, endMs: 0 };
  open.push(setup);
  bus.registerHandler("replayed", (input) => {
    replayed.push((input as { detail: { n: number } }).detail.n);
  });
  await bus.createArchive({ ArchiveName: "orders", EventSourceArn: BUS_ARN });
  await bus.putRule({ Name: "replays", EventPattern: '{"replay-name":[{"exists":true}]}' });
  await bus.putTargets({
    Rule: "replays",
    Targets: [{ Id: "h", Arn: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:replayed` }],
  });
  const startMs = clock.now();
  for (let n = 0; n < EVENTS; n += 10) {
    const entries: PutEventsRequestEntry[] = [];
    for (let i = n; i < n + 10; i++) {
      entries.push({ Source: "shop", DetailType: "T", Detail: JSON.stringify({ n: i }) });
      putAt.push(clock.now());
    }
    await bus.putEvents({ Entries: entries });
    await clock.advance(1);
  }
  for (let i = 0; (await bus.describeArchive({ ArchiveName: "orders" })).EventCount < EVENTS; i++) {
    if (i > 1_000) throw new Error("events not archived");
    await clock.advance(10);
  }
  await clock.advance(1_000);
  syncs.slow = true;
  return { ...setup, startMs, endMs: clock.now() };
}

async function startReplay(setup: Setup): Promise<void> {
  const { State } = await setup.bus.startReplay({
    ReplayName: "r",
    EventSourceArn: ARCHIVE_ARN,
    EventStartTime: new Date(setup.startMs),
    EventEndTime: new Date(setup.endMs),
    Destination: { Arn: BUS_ARN },
  });
  expect(State).toBe("STARTING");
}

/** Lets the replay's batch in flight become durable and its events reach the rule. */
async function nextBatch(setup: Setup, replayedThen: number): Promise<void> {
  await settleUntil(() => setup.syncs.waiting > 0, "the replay's append waiting for its sync");
  await setup.clock.advance(SYNC_MS);
  await settleUntil(() => setup.replayed.length === replayedThen, `${replayedThen} replayed`);
}

const describeReplay = (setup: Setup) => setup.bus.describeReplay({ ReplayName: "r" });

describe("replay states, on the virtual clock", () => {
  it("a replay is RUNNING while its events are replayed, then COMPLETED with all of them in order", async () => {
    const setup = await archived();
    await startReplay(setup);
    expect((await describeReplay(setup)).State).toBe("RUNNING");
    expect(setup.replayed).toEqual([]);

    await nextBatch(setup, 500);
    const during = await describeReplay(setup);
    expect(during.State).toBe("RUNNING");
    expect(during.EventLastReplayedTime?.getTime()).toBe(setup.putAt[499]);
    expect(during.ReplayEndTime).toBeUndefined();

    await nextBatch(setup, 1_000);
    expect((await describeReplay(setup)).State).toBe("RUNNING");

    await nextBatch(setup, EVENTS);
    await settleUntil(async () => (await describeReplay(setup)).State !== "RUNNING", "the end");
    const done = await describeReplay(setup);
    expect(done.State).toBe("COMPLETED");
    expect(done.EventLastReplayedTime?.getTime()).toBe(setup.putAt[EVENTS - 1]);
    expect(done.ReplayEndTime?.getTime()).toBe(setup.clock.now());
    expect(setup.replayed).toEqual(Array.from({ length: EVENTS }, (_, n) => n));
  });

  it("a cancelled replay is CANCELLING until its batch in flight is done, then CANCELLED, and replays nothing more", async () => {
    const setup = await archived();
    await startReplay(setup);
    await nextBatch(setup, 500);
    // The second batch is on the bus's log, waiting for its sync, when the cancel comes.
    await settleUntil(() => setup.syncs.waiting > 0, "the second batch");
    const cancelled = await setup.bus.cancelReplay({ ReplayName: "r" });
    expect(cancelled.State).toBe("CANCELLING");
    expect((await describeReplay(setup)).State).toBe("CANCELLING");
    expect((await setup.bus.listReplays({ State: "CANCELLING" })).Replays).toHaveLength(1);

    await nextBatch(setup, 1_000);
    await settleUntil(async () => (await describeReplay(setup)).State !== "CANCELLING", "the end");
    const after = await describeReplay(setup);
    expect(after.State).toBe("CANCELLED");
    expect(after.EventLastReplayedTime?.getTime()).toBe(setup.putAt[999]);
    expect(after.ReplayEndTime).toBeDefined();

    // However long it is left, the rest of the range is never replayed.
    await setup.clock.advance(20 * SYNC_MS);
    expect(setup.replayed).toEqual(Array.from({ length: 1_000 }, (_, n) => n));
    expect((await describeReplay(setup)).State).toBe("CANCELLED");
    expect((await rejection(setup.bus.cancelReplay({ ReplayName: "r" }))).ebError).toBe(
      "IllegalStatusException",
    );
  });

  it("a replay whose archive is deleted while it runs ends FAILED, with the reason, and replays nothing more", async () => {
    const setup = await archived();
    await startReplay(setup);
    await nextBatch(setup, 500);
    await settleUntil(() => setup.syncs.waiting > 0, "the second batch");
    await setup.bus.deleteArchive({ ArchiveName: "orders" });

    await nextBatch(setup, 1_000);
    await settleUntil(async () => (await describeReplay(setup)).State !== "RUNNING", "the end");
    const failed = await describeReplay(setup);
    expect(failed.State).toBe("FAILED");
    expect(failed.StateReason).toBe("archive orders was deleted while the replay ran");
    expect(failed.ReplayEndTime).toBeDefined();
    expect((await setup.bus.listReplays({ State: "FAILED" })).Replays).toHaveLength(1);

    await setup.clock.advance(20 * SYNC_MS);
    expect(setup.replayed).toHaveLength(1_000);
    expect((await rejection(setup.bus.cancelReplay({ ReplayName: "r" }))).ebError).toBe(
      "IllegalStatusException",
    );
  });
});
