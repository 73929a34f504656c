import { SluiceError } from "../../errors/index.js";
import type { JsonValue } from "../event-store.js";
import type { ReadModel } from "../projections/projection.js";
import {
  type GroupCommit,
  type GroupRecord,
  type GroupSettings,
  type ParkedEvent,
  type PersistentSubscriptionStateStore,
  groupNotFound,
} from "./persistent-subscription.js";

const groupKey = (group: string): string => `group:${group}`;
// The group's length first, so one group's prefix is never another group's.
const parkedPrefix = (group: string): string => `parked:${group.length}:${group}:`;
const parkedKey = (group: string, seq: number): string =>
  `${parkedPrefix(group)}${String(seq).padStart(16, "0")}`;

/**
 * Persistent subscription state in a key-value read model (the embedded backend uses an
 * `EmbeddedReadModel`, a compacted engine log): one document per group, one per parked event,
 * each commit one atomic read-model commit.
 */
export class ReadModelSubscriptionState implements PersistentSubscriptionStateStore {
  private serial: Promise<unknown> = Promise.resolve();
  private commits: number | undefined;

  constructor(private readonly model: ReadModel) {}

  /** Commits run one at a time: create and delete read before they write. */
  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.serial.then(task, task);
    this.serial = run.catch(() => undefined);
    return run;
  }

  private async write(writes: Map<string, JsonValue | null>): Promise<void> {
    this.commits ??= await this.model.checkpoint();
    this.commits++;
    await this.model.commit(writes, this.commits);
  }

  create(settings: GroupSettings, checkpoint: number): Promise<void> {
    return this.exclusive(async () => {
      if ((await this.model.get(groupKey(settings.group))) !== undefined)
        throw new SluiceError(
          "SLUICE_ALREADY_EXISTS",
          `persistent subscription ${settings.group} already exists`,
          { field: "group", details: { group: settings.group } },
        );
      const record: GroupRecord = { settings, checkpoint, settled: [], retries: {} };
      await this.write(new Map([[groupKey(settings.group), record as unknown as JsonValue]]));
    });
  }

  delete(group: string): Promise<void> {
    return this.exclusive(async () => {
      if ((await this.model.get(groupKey(group))) === undefined) throw groupNotFound(group);
      const writes = new Map<string, JsonValue | null>([[groupKey(group), null]]);
      for (const [key] of await this.parkedEntries(group)) writes.set(key, null);
      await this.write(writes);
    });
  }

  async load(group: string): Promise<GroupRecord | undefined> {
    return (await this.model.get(groupKey(group))) as GroupRecord | undefined;
  }

  async list(): Promise<GroupRecord[]> {
    return (await this.model.entries())
      .filter(([key]) => key.startsWith("group:"))
      .map(([, value]) => value as unknown as GroupRecord);
  }

  commit(group: string, commit: GroupCommit): Promise<void> {
    return this.exclusive(async () => {
      const current = (await this.model.get(groupKey(group))) as GroupRecord | undefined;
      // A group deleted while its last settlements were in flight stays deleted.
      if (current === undefined) return;
      const record: GroupRecord = { settings: current.settings, ...commit.state };
      const writes = new Map<string, JsonValue | null>([
        [groupKey(group), record as unknown as JsonValue],
      ]);
      for (const seq of commit.unpark) writes.set(parkedKey(group, seq), null);
      for (const parked of commit.park)
        writes.set(parkedKey(group, seqOf(current, parked)), parked as unknown as JsonValue);
      await this.write(writes);
    });
  }

  private async parkedEntries(group: string): Promise<[string, ParkedEvent][]> {
    const prefix = parkedPrefix(group);
    return (await this.model.entries())
      .filter(([key]) => key.startsWith(prefix))
      .map(([key, value]) => [key, value as unknown as ParkedEvent]);
  }

  async listParked(group: string): Promise<ParkedEvent[]> {
    return (await this.parkedEntries(group)).map(([, value]) => value);
  }

  markReplaying(group: string): Promise<ParkedEvent[]> {
    return this.exclusive(async () => {
      const entries = await this.parkedEntries(group);
      const writes = new Map<string, JsonValue | null>();
      const out: ParkedEvent[] = [];
      for (const [key, parked] of entries) {
        const replaying: ParkedEvent = { ...parked, replaying: true };
        writes.set(key, replaying as unknown as JsonValue);
        out.push(replaying);
      }
      if (writes.size > 0) await this.write(writes);
      return out;
    });
  }

  async close(): Promise<void> {
    await this.serial;
    await this.model.close();
  }
}

function seqOf(record: GroupRecord, parked: ParkedEvent): number {
  return record.settings.stream === null ? parked.event.position : parked.event.version;
}
