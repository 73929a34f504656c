import type { JetStreamClient } from "@nats-io/jetstream";
import { type KV, type KvEntry, Kvm } from "@nats-io/kv";
import { SluiceError } from "../../errors/index.js";
import type { QueueDefinition } from "../../messaging/queues/durable-queue.js";
import type { MoveTaskRecord } from "../../messaging/queues/message-move-task.js";

const QUEUE_PREFIX = "q.";
const TASK_PREFIX = "t.";

/** A change another process made to the catalog. */
export type CatalogChange =
  | { readonly kind: "queue"; readonly name: string; readonly definition?: QueueDefinition }
  | { readonly kind: "task"; readonly handle: string; readonly record?: MoveTaskRecord };

/**
 * The queues (attributes, tags) and message move tasks, in a replicated JetStream key-value
 * bucket shared by every process: `q.<name>` and `t.<handle>`. A watch reports the changes other
 * processes make, so their queues appear, change and disappear here too.
 */
export class NatsCatalog {
  private watching: { stop(): void } | undefined;

  private constructor(private readonly kv: KV) {}

  static async open(
    js: JetStreamClient,
    bucket: string,
    replicas: number,
  ): Promise<{ catalog: NatsCatalog; definitions: QueueDefinition[]; tasks: MoveTaskRecord[] }> {
    const kv = await new Kvm(js).create(bucket, { replicas, history: 1 });
    const definitions: QueueDefinition[] = [];
    const tasks: MoveTaskRecord[] = [];
    const keys: string[] = [];
    for await (const key of await kv.keys()) keys.push(key);
    for (const key of keys) {
      const entry = await kv.get(key);
      if (entry === null || entry.operation !== "PUT") continue;
      if (key.startsWith(QUEUE_PREFIX)) definitions.push(parse<QueueDefinition>(entry, "uid"));
      else if (key.startsWith(TASK_PREFIX)) tasks.push(parse<MoveTaskRecord>(entry, "handle"));
    }
    return { catalog: new NatsCatalog(kv), definitions, tasks };
  }

  /** Reports changes made from now on (by any process, this one included). */
  async watch(onChange: (change: CatalogChange) => void): Promise<void> {
    const updates = await this.kv.watch({ include: "updates" as never });
    this.watching = updates;
    void (async () => {
      for await (const entry of updates) {
        const put = entry.operation === "PUT";
        if (entry.key.startsWith(QUEUE_PREFIX)) {
          const name = entry.key.slice(QUEUE_PREFIX.length);
          onChange(
            put
              ? { kind: "queue", name, definition: parse<QueueDefinition>(entry, "uid") }
              : { kind: "queue", name },
          );
        } else if (entry.key.startsWith(TASK_PREFIX)) {
          const handle = entry.key.slice(TASK_PREFIX.length);
          onChange(
            put
              ? { kind: "task", handle, record: parse<MoveTaskRecord>(entry, "handle") }
              : { kind: "task", handle },
          );
        }
      }
    })().catch(() => undefined); // a closed connection ends the watch
  }

  /** Adds a queue unless one of that name exists; returns the one that is there now. */
  async create(definition: QueueDefinition): Promise<QueueDefinition> {
    try {
      await this.kv.create(QUEUE_PREFIX + definition.name, JSON.stringify(definition));
      return definition;
    } catch (error) {
      const existing = await this.kv.get(QUEUE_PREFIX + definition.name);
      if (existing === null || existing.operation !== "PUT") throw error;
      return parse<QueueDefinition>(existing, "uid");
    }
  }

  async put(definition: QueueDefinition): Promise<void> {
    await this.kv.put(QUEUE_PREFIX + definition.name, JSON.stringify(definition));
  }

  async remove(name: string): Promise<void> {
    await this.kv.delete(QUEUE_PREFIX + name);
  }

  async putTask(task: MoveTaskRecord): Promise<void> {
    await this.kv.put(TASK_PREFIX + task.handle, JSON.stringify(task));
  }

  async removeTask(handle: string): Promise<void> {
    await this.kv.delete(TASK_PREFIX + handle);
  }

  close(): void {
    this.watching?.stop();
  }
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
