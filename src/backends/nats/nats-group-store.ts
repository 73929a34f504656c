import type { JetStreamManager } from "@nats-io/jetstream";
import type { KV, KvEntry } from "@nats-io/kv";
import { SluiceError } from "../../errors/index.js";
import { TopicError } from "../../messaging/topics/topic-error.js";
import { bucketKeys } from "./bucket-keys.js";
import { isConflict } from "./kv-conflict.js";
import { retryWhileUnavailable } from "./retry-unavailable.js";
import { type GroupRecord, emptyGroup } from "./nats-group-record.js";
import { AnswerLostError, type ReconnectWatch } from "./reconnect-watch.js";

const GROUP_PREFIX = "group.";
/** Compare-and-set rounds before a change gives up (each lost round means another member wrote). */
const MAX_ROUNDS = 50;

/** Key-value keys allow [-/_=.a-zA-Z0-9]: a group id is any string, so it is base64url-coded. */
const keyOf = (groupId: string): string =>
  GROUP_PREFIX + Buffer.from(groupId, "utf8").toString("base64url");
const groupIdOf = (key: string): string =>
  Buffer.from(key.slice(GROUP_PREFIX.length), "base64url").toString("utf8");

/**
 * Consumer groups in the topics' key-value bucket, one value per group (`group.<id>`). A change
 * reads the value, applies a function to it and writes it back only if no one wrote in between
 * (the bucket's revision check); otherwise it reads again and re-applies. So members of one group
 * in any number of processes change it one at a time, as through Kafka's group coordinator.
 * Requests whose connection dropped are sent again once it is back (`ReconnectWatch`), so a
 * member carries on within a reconnect of a server's death, not a request timeout later.
 */
export class NatsGroupStore {
  constructor(
    private readonly kv: KV,
    private readonly jsm: JetStreamManager,
    private readonly bucket: string,
    private readonly watch: ReconnectWatch,
  ) {}

  /** The group's record, undefined if there is none. */
  async get(groupId: string): Promise<GroupRecord | undefined> {
    const entry = await this.read(keyOf(groupId));
    return entry === null || entry.operation !== "PUT" ? undefined : parse(entry);
  }

  /**
   * Applies `change` to the group (a fresh empty record if there is none) and stores the result
   * if `change` says it changed anything; returns what `change` returned. `change` may run more
   * than once and must throw, not write, to refuse.
   */
  async update<T>(
    groupId: string,
    change: (group: GroupRecord) => { result: T; changed: boolean },
  ): Promise<T> {
    const key = keyOf(groupId);
    // Values written whose answer was lost, with their results: finding one of them stored means
    // that write landed (each carries a clock reading), and applying `change` again would apply
    // it twice (a second join, say).
    const unanswered = new Map<string, T>();
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const entry = await this.read(key);
      const exists = entry !== null && entry.operation === "PUT";
      if (exists && unanswered.size > 0) {
        const landed = unanswered.get(entry.string());
        if (landed !== undefined) return landed;
      }
      const group = exists ? parse(entry) : emptyGroup();
      const { result, changed } = change(group);
      if (!changed) return result;
      const value = JSON.stringify(group);
      try {
        if (exists) await this.watch.once(() => this.kv.update(key, value, entry.revision));
        else await this.watch.once(() => this.kv.create(key, value));
        return result;
      } catch (error) {
        if (error instanceof AnswerLostError) unanswered.set(value, result);
        else if (!isConflict(error)) throw error;
      }
    }
    throw new TopicError(
      "REBALANCE_IN_PROGRESS",
      `groupId: group ${groupId} changed ${MAX_ROUNDS} times under this change; try again`,
      "groupId",
    );
  }

  /** Deletes the group if `check` accepts it as it is now. */
  async remove(groupId: string, check: (group: GroupRecord | undefined) => void): Promise<void> {
    const key = keyOf(groupId);
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const entry = await this.read(key);
      const exists = entry !== null && entry.operation === "PUT";
      check(exists ? parse(entry) : undefined);
      if (!exists) return;
      try {
        // a delete whose answer was lost is looked for by reading again
        await this.watch.once(() => this.kv.delete(key, { previousSeq: entry.revision }));
        return;
      } catch (error) {
        if (!(error instanceof AnswerLostError) && !isConflict(error)) throw error;
      }
    }
  }

  /**
   * Every group id with a record, as the bucket's leader has them. The client's `kv.keys()`
   * reads through a consumer that may sit on a follower, which can list a group deleted a
   * moment ago and miss one just made. The leader's keys include deleted ones (a delete marker
   * is a message too), so each value is read (from the leader: no direct gets) and checked.
   */
  async groupIds(): Promise<string[]> {
    return retryWhileUnavailable(async () => {
      const ids: string[] = [];
      for (const key of await this.watch.read(() =>
        bucketKeys(this.jsm, this.bucket, `${GROUP_PREFIX}>`),
      )) {
        const entry = await this.read(key);
        if (entry !== null && entry.operation === "PUT") ids.push(groupIdOf(key));
      }
      return ids.sort();
    });
  }

  private read(key: string): Promise<KvEntry | null> {
    return this.watch.read(() => this.kv.get(key));
  }
}

function parse(entry: KvEntry): GroupRecord {
  try {
    const parsed = entry.json<GroupRecord>();
    if (Array.isArray(parsed.members) && typeof parsed.generation === "number") return parsed;
  } catch {
    // reported below
  }
  throw new SluiceError(
    "SLUICE_CORRUPT",
    `consumer group entry ${entry.key} (revision ${entry.revision}) is not valid`,
  );
}
