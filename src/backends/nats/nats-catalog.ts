import { setTimeout as sleep } from "node:timers/promises";
import type { JetStreamManager } from "@nats-io/jetstream";
import { type KV, type KvEntry, KvWatchInclude } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { SluiceError } from "../../errors/index.js";
import type { QueueDefinition } from "../../messaging/queues/durable-queue.js";
import type { MoveTaskRecord } from "../../messaging/queues/message-move-task.js";
import { RECEIPT_KEY_BYTES, newReceiptKey } from "../../messaging/queues/receipt-handle.js";
import { bucketListing } from "./bucket-keys.js";
import { openCatalogBucket } from "./catalog-bucket.js";
import { isConflict } from "./kv-conflict.js";
import { retryWhileUnavailable } from "./retry-unavailable.js";

/** Reads and writes one edit may take while others keep changing the same queue. */
const MAX_UPDATE_ROUNDS = 50;
/**
 * How long a source's run key may name a task whose record is not there before another start
 * takes the key: its starter writes the record right after the key, unless it failed between.
 */
const TASK_RECORD_WAIT_MS = 5000;

/** A change another process made to the catalog. */
export type CatalogChange =
  | {
      readonly kind: "queue";
      readonly name: string;
      readonly definition?: QueueDefinition;
      /** The catalog revision of the change. */
      readonly revision: number;
    }
  | {
      readonly kind: "task";
      readonly handle: string;
      /** Absent when the record was deleted (its queue deleted). */
      readonly stored?: StoredMoveTask;
    };

/** A move task's record as stored, naming the process that works it while it runs. */
export interface OwnedMoveTaskRecord extends MoveTaskRecord {
  /** The `writer` id of the process working the task; absent in records of older releases. */
  readonly owner?: string;
}

/** A task record and the catalog revision it was read at (for writes on that revision). */
export interface StoredMoveTask {
  readonly record: OwnedMoveTaskRecord;
  readonly revision: number;
}

/**
 * The queues (attributes, tags) and message move tasks, in a replicated JetStream key-value
 * bucket shared by every process: `<namespace>.q.<name>` and `<namespace>.t.<handle>`. A watch
 * reports the changes other processes make, so their queues appear, change and disappear here
 * too. Reads go to the bucket stream's leader, never to a follower that may not have applied
 * the latest acknowledged write (a queue deleted a moment ago must not come back on reopen).
 */
export class NatsCatalog {
  private watching: { stop(): void } | undefined;
  /** The bucket's revision when `readAll` last counted its keys. */
  private readRevision = 0;

  private readonly queuePrefix: string;
  private readonly taskPrefix: string;
  /** Keys naming the move task running on each source queue (by its uid). */
  private readonly runPrefix: string;

  private constructor(
    private readonly kv: KV,
    private readonly jsm: JetStreamManager,
    private readonly bucket: string,
    private readonly namespace: string,
  ) {
    this.queuePrefix = `${namespace}.q.`;
    this.taskPrefix = `${namespace}.t.`;
    this.runPrefix = `${namespace}.run.`;
  }

  static async open(
    nc: NatsConnection,
    bucket: string,
    namespace: string,
    replicas: number,
  ): Promise<{
    catalog: NatsCatalog;
    definitions: QueueDefinition[];
    tasks: StoredMoveTask[];
    receiptKey: Buffer;
  }> {
    // Every step may be repeated, so each waits out a server that is briefly "unavailable".
    const { kv, jsm } = await openCatalogBucket(nc, bucket, replicas);
    const catalog = new NatsCatalog(kv, jsm, bucket, namespace);
    const receiptKey = await retryWhileUnavailable(() => catalog.receiptKey());
    const { definitions, tasks } = await catalog.readAll();
    return { catalog, definitions, tasks, receiptKey };
  }

  /**
   * Every queue and move task of the namespace, as the bucket's leader has them now; `watch`
   * then reports every change made since.
   */
  async readAll(): Promise<{ definitions: QueueDefinition[]; tasks: StoredMoveTask[] }> {
    return retryWhileUnavailable(async () => {
      const definitions: QueueDefinition[] = [];
      const tasks: StoredMoveTask[] = [];
      const { keys, revision } = await bucketListing(this.jsm, this.bucket, `${this.namespace}.>`);
      this.readRevision = revision;
      for (const key of keys) {
        const entry = await this.kv.get(key);
        if (entry === null || entry.operation !== "PUT") continue;
        if (key.startsWith(this.queuePrefix))
          definitions.push(parse<QueueDefinition>(entry, "uid"));
        else if (key.startsWith(this.taskPrefix)) tasks.push(storedTask(entry));
      }
      return { definitions, tasks };
    });
  }

  /**
   * The namespace's key for signing receipt handles, made by the first process that opens it
   * (`create` succeeds once, so processes opening together still agree on one key).
   */
  private async receiptKey(): Promise<Buffer> {
    const key = `${this.namespace}.receipt-key`;
    for (let attempt = 1; ; attempt++) {
      const entry = await this.kv.get(key);
      if (entry !== null && entry.operation === "PUT") {
        const bytes = Buffer.from(entry.string(), "base64");
        if (bytes.length !== RECEIPT_KEY_BYTES)
          throw new SluiceError(
            "SLUICE_CORRUPT",
            `queue catalog entry ${key} is not a signing key`,
          );
        return bytes;
      }
      try {
        await this.kv.create(key, newReceiptKey().toString("base64"));
      } catch (error) {
        // Another process made it first (read it next round), or the servers did not answer.
        if (attempt >= 5) throw error;
      }
    }
  }

  /**
   * Reports changes (by any process, this one included) made since the last `readAll` counted
   * the keys, though opening the queues it found took a while: the values it read may be newer
   * than that count, so a change may be reported that was read already (its revision tells).
   */
  async watch(onChange: (change: CatalogChange) => void): Promise<void> {
    const updates = await this.kv.watch({
      key: `${this.namespace}.>`,
      include: KvWatchInclude.UpdatesOnly,
      resumeFromRevision: this.readRevision + 1,
    });
    this.watching = updates;
    void (async () => {
      for await (const entry of updates) {
        const put = entry.operation === "PUT";
        if (entry.key.startsWith(this.queuePrefix)) {
          const name = entry.key.slice(this.queuePrefix.length);
          const revision = entry.revision;
          onChange(
            put
              ? { kind: "queue", name, definition: parse<QueueDefinition>(entry, "uid"), revision }
              : { kind: "queue", name, revision },
          );
        } else if (entry.key.startsWith(this.taskPrefix)) {
          const handle = entry.key.slice(this.taskPrefix.length);
          onChange(
            put ? { kind: "task", handle, stored: storedTask(entry) } : { kind: "task", handle },
          );
        }
      }
    })().catch(() => undefined); // a closed connection ends the watch
  }

  /**
   * Adds a queue unless one of that name exists; returns the one that is there now, with its
   * catalog revision.
   */
  async create(
    definition: QueueDefinition,
  ): Promise<{ definition: QueueDefinition; revision: number }> {
    try {
      const key = this.queuePrefix + definition.name;
      return { definition, revision: await this.kv.create(key, JSON.stringify(definition)) };
    } catch (error) {
      const existing = await this.kv.get(this.queuePrefix + definition.name);
      if (existing === null || existing.operation !== "PUT") throw error;
      return { definition: parse<QueueDefinition>(existing, "uid"), revision: existing.revision };
    }
  }

  /**
   * Stores `change` applied to the queue's definition as the bucket has it now (the queue of
   * `uid`; another process may have changed it since this one heard), written only on the
   * revision it read: when another write came between, it reads and applies `change` again.
   * So edits from any number of processes are all kept. Returns what was stored and its
   * revision; undefined when the queue is gone (or is another queue of the same name). `change`
   * may run more than once and must throw, not write, to refuse.
   */
  async update(
    name: string,
    uid: string,
    change: (current: QueueDefinition) => QueueDefinition,
  ): Promise<{ definition: QueueDefinition; revision: number } | undefined> {
    const key = this.queuePrefix + name;
    for (let round = 0; ; round++) {
      const entry = await retryWhileUnavailable(() => this.kv.get(key));
      if (entry === null || entry.operation !== "PUT") return undefined;
      const current = parse<QueueDefinition>(entry, "uid");
      if (current.uid !== uid) return undefined;
      const next = change(current);
      try {
        const revision = await this.kv.update(key, JSON.stringify(next), entry.revision);
        return { definition: next, revision };
      } catch (error) {
        if (!isConflict(error) || round >= MAX_UPDATE_ROUNDS) throw error;
      }
    }
  }

  /** Deletes the queue's entry; the revision of the delete, when it is still the latest. */
  async remove(name: string): Promise<number | undefined> {
    await this.kv.delete(this.queuePrefix + name);
    const entry = await retryWhileUnavailable(() => this.kv.get(this.queuePrefix + name));
    return entry !== null && entry.operation !== "PUT" ? entry.revision : undefined;
  }

  /** Stores a new task's record; returns its revision. */
  async createTask(task: OwnedMoveTaskRecord): Promise<number> {
    return this.kv.create(this.taskPrefix + task.handle, JSON.stringify(task));
  }

  /**
   * Stores a task's record only if the stored one is still at `revision` (else throws a conflict,
   * `isConflict`); returns the new revision.
   */
  async updateTask(task: OwnedMoveTaskRecord, revision: number): Promise<number> {
    return this.kv.update(this.taskPrefix + task.handle, JSON.stringify(task), revision);
  }

  /**
   * Makes `handle` the move task running on the source queue `sourceUid`, unless another one
   * is; returns that one's handle then. The source's run key is created, or rewritten on the
   * revision read once the task it names has ended (or its record has not appeared in 5 s, on
   * this process's clock), so of two processes starting a task at once one is refused.
   */
  async claimSource(sourceUid: string, handle: string): Promise<string | undefined> {
    const key = this.runPrefix + sourceUid;
    let absent: { revision: number; since: number } | undefined;
    for (let conflicts = 0; ;) {
      const entry = await retryWhileUnavailable(() => this.kv.get(key));
      try {
        if (entry === null || entry.operation !== "PUT") {
          await this.kv.create(key, handle);
          return undefined;
        }
        const holder = entry.string();
        const task = await this.readTask(holder);
        if (task?.record.status === "RUNNING") return holder;
        if (task === undefined) {
          if (absent?.revision !== entry.revision)
            absent = { revision: entry.revision, since: performance.now() };
          if (performance.now() - absent.since < TASK_RECORD_WAIT_MS) {
            await sleep(100);
            continue;
          }
        }
        await this.kv.update(key, handle, entry.revision);
        return undefined;
      } catch (error) {
        if (!isConflict(error) || ++conflicts >= MAX_UPDATE_ROUNDS) throw error;
      }
    }
  }

  /** Frees the source's run key if it still names `handle` (whose start failed). */
  async releaseSource(sourceUid: string, handle: string): Promise<void> {
    const key = this.runPrefix + sourceUid;
    const entry = await this.kv.get(key);
    if (entry?.operation === "PUT" && entry.string() === handle)
      await this.kv.delete(key, { previousSeq: entry.revision });
  }

  /** Forgets the source's run key (its queue is deleted). */
  async removeSource(sourceUid: string): Promise<void> {
    await this.kv.delete(this.runPrefix + sourceUid);
  }

  /** The task's record as the bucket's leader has it now; undefined once deleted. */
  async readTask(handle: string): Promise<StoredMoveTask | undefined> {
    const entry = await retryWhileUnavailable(() => this.kv.get(this.taskPrefix + handle));
    return entry === null || entry.operation !== "PUT" ? undefined : storedTask(entry);
  }

  async removeTask(handle: string): Promise<void> {
    await this.kv.delete(this.taskPrefix + handle);
  }

  close(): void {
    this.watching?.stop();
  }
}

function storedTask(entry: KvEntry): StoredMoveTask {
  return { record: parse<OwnedMoveTaskRecord>(entry, "handle"), revision: entry.revision };
}

function parse<T>(entry: KvEntry, field: string): T {
  try {
    const parsed = entry.json<Record<string, unknown>>();
    if (typeof parsed[field] === "string") return parsed as T;
  } catch {
    // reported below
  }
  throw new SluiceError(
    "SLUICE_CORRUPT",
    `queue catalog entry ${entry.key} (revision ${entry.revision}) is not valid`,
  );
}
