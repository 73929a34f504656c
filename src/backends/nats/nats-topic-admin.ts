import type { JetStreamManager } from "@nats-io/jetstream";
import { TimeoutError } from "@nats-io/transport-node";
import { randomBytes } from "node:crypto";
import type { Clock } from "../../time/index.js";
import { PerKeySerializer } from "../../messaging/per-key-serializer.js";
import type {
  CreateTopicInput,
  GroupDescription,
  GroupListing,
  GroupOffsetDescription,
  OffsetAndMetadata,
  PartitionDescription,
  TopicAdmin,
  TopicConfig,
  TopicDescription,
  TopicPartition,
} from "../../messaging/topics/topic-admin.js";
import {
  checkPartitionCount,
  checkTopicName,
  configOf,
  resolveTopicConfig,
} from "../../messaging/topics/topic-config.js";
import {
  TopicError,
  invalidTopicInput,
  isTopicError,
  unknownTopic,
} from "../../messaging/topics/topic-error.js";
import { expire } from "../../messaging/topics/group-membership.js";
import { refuseInternalTopicName } from "../../messaging/topics/internal-topics.js";
import { type GroupRecord, offsetKey } from "./nats-group-record.js";
import type { NatsGroupStore } from "./nats-group-store.js";
import type { NatsTopicCatalog, NatsTopicDefinition } from "./nats-topic-catalog.js";
import { checkOffsets, writeOffsets } from "./nats-topic-consumer.js";
import {
  createPartitionStream,
  deletePartitionRecords,
  type PartitionAddress,
  ensurePartitionStream,
  removeTopicStreams,
  offsetForTimestamp,
  partitionAddress,
  partitionState,
  removePartitionStream,
  updatePartitionStream,
} from "./partition-stream.js";

/**
 * The admin of topics on JetStream: topics in the catalog bucket, one stream per partition,
 * groups in the same bucket.
 */
export class NatsTopicAdmin implements TopicAdmin {
  constructor(
    private readonly jsm: JetStreamManager,
    private readonly catalog: NatsTopicCatalog,
    private readonly groups: NatsGroupStore,
    private readonly namespace: string,
    private readonly replicas: number,
    private readonly clock: Clock,
  ) {}

  private readonly definitionEdits = new PerKeySerializer();

  private async definition(name: string, field = "topic"): Promise<NatsTopicDefinition> {
    const definition = typeof name === "string" ? await this.catalog.fetch(name) : undefined;
    if (definition === undefined) throw unknownTopic(String(name), undefined, field);
    return definition;
  }

  private async partition(topic: string, partition: number) {
    const definition = await this.definition(topic);
    if (!Number.isInteger(partition) || partition < 0 || partition >= definition.partitions)
      throw unknownTopic(topic, partition, "partition");
    return partitionAddress(this.namespace, definition, partition);
  }

  private describe(definition: NatsTopicDefinition): TopicDescription {
    return {
      name: definition.name,
      partitions: definition.partitions,
      config: definition.config,
      internal: false,
    };
  }

  async createTopic(input: CreateTopicInput): Promise<TopicDescription> {
    if (input === null || typeof input !== "object")
      throw invalidTopicInput("input", "{ name, partitions?, ...config }", input);
    const name = checkTopicName(input.name);
    refuseInternalTopicName(name);
    const partitions = checkPartitionCount(input.partitions ?? 1);
    const config = resolveTopicConfig(configOf(input));
    const definition: NatsTopicDefinition = {
      name,
      uid: randomBytes(6).toString("hex"),
      partitions,
      config,
    };
    if (this.catalog.get(name) !== undefined || !(await this.catalog.create(definition)))
      throw new TopicError("TOPIC_ALREADY_EXISTS", `name: topic ${name} exists`, "name");
    try {
      for (let p = 0; p < partitions; p++)
        await createPartitionStream(
          this.jsm,
          partitionAddress(this.namespace, definition, p),
          config,
          this.replicas,
        );
    } catch (error) {
      await this.removeStreams(definition);
      if (await this.stillDefines(definition)) {
        await this.catalog.remove(name);
        throw error;
      }
      // Deleted while it was being made, a creation left unanswered: nats-server may hold one
      // that races the delete (more so with replicas 3). The topic was made, then deleted.
      if (error instanceof TimeoutError) return this.describe(definition);
      throw error;
    }
    // Deleted while it was being made: the delete removed the streams it found, and those made
    // after it looked go now, so that no stream outlives its topic. The creation did happen,
    // before the delete, and is answered as such.
    if (!(await this.stillDefines(definition))) await this.removeStreams(definition);
    return this.describe(definition);
  }

  /** Whether the catalog still holds this very topic (not deleted, nor made again since). */
  private async stillDefines(definition: NatsTopicDefinition): Promise<boolean> {
    return (await this.catalog.fetch(definition.name))?.uid === definition.uid;
  }

  /** Every partition stream of the topic, found by subject: those a racing grow made too. */
  private removeStreams(definition: NatsTopicDefinition): Promise<void> {
    return removeTopicStreams(this.jsm, this.namespace, definition);
  }

  async deleteTopic(name: string): Promise<void> {
    const definition = await this.definition(name, "name");
    await this.catalog.remove(definition.name);
    await this.removeStreams(definition);
    if (definition.config.cleanupPolicy !== "delete")
      await this.catalog.forgetCompaction(definition.uid, definition.partitions);
    // As Kafka does, groups forget their offsets of a deleted topic (a new topic of that name
    // starts from autoOffsetReset, not from the old topic's offsets).
    const prefix = `${definition.name}/`;
    for (const groupId of await this.groups.groupIds())
      await this.groups.update(groupId, (group) => {
        // Topic names have no "/", so the prefix names exactly this topic's partitions.
        const stale = Object.keys(group.offsets).filter((key) => key.startsWith(prefix));
        for (const key of stale) delete group.offsets[key];
        return { result: undefined, changed: stale.length > 0 };
      });
  }

  listTopics(): Promise<string[]> {
    return Promise.resolve(this.catalog.names());
  }

  async describeTopic(name: string): Promise<TopicDescription> {
    return this.describe(await this.definition(name, "name"));
  }

  async alterTopicConfig(name: string, config: Partial<TopicConfig>): Promise<TopicDescription> {
    if (config === null || typeof config !== "object")
      throw invalidTopicInput("config", "an object of topic settings", config, "INVALID_CONFIG");
    const changed = await this.edit(name, async (current) => {
      const next = { ...current, config: resolveTopicConfig(config, current.config) };
      for (let p = 0; p < current.partitions; p++)
        await updatePartitionStream(
          this.jsm,
          partitionAddress(this.namespace, current, p),
          next.config,
          this.replicas,
        );
      return next;
    });
    return this.describe(changed);
  }

  async createPartitions(name: string, totalCount: number): Promise<void> {
    const total = checkPartitionCount(totalCount, "totalCount");
    const made = new Map<string, PartitionAddress>();
    try {
      await this.edit(name, async (current) => {
        if (total <= current.partitions)
          throw new TopicError(
            "INVALID_PARTITIONS",
            `totalCount: topic ${name} has ${current.partitions} partitions; expected more, got ${total}`,
            "totalCount",
          );
        // An earlier round may have made some of these streams, with a config changed since.
        for (let p = current.partitions; p < total; p++) {
          const address = partitionAddress(this.namespace, current, p);
          // Noted before the request: one left unanswered may still make the stream.
          made.set(address.stream, address);
          await ensurePartitionStream(this.jsm, address, current.config, this.replicas);
        }
        return { ...current, partitions: total };
      });
    } catch (error) {
      // Deleted while it grew: the streams this grow made go too (the delete may not have seen
      // them). nats-server may leave a creation racing the delete unanswered (more so with
      // replicas 3): a grow whose request timed out and whose topic is gone is one of these.
      const gone =
        isTopicError(error, "UNKNOWN_TOPIC_OR_PARTITION") ||
        (error instanceof TimeoutError && (await this.catalog.fetch(name)) === undefined);
      if (!gone) throw error;
      for (const address of made.values()) await removePartitionStream(this.jsm, address);
      throw isTopicError(error, "UNKNOWN_TOPIC_OR_PARTITION")
        ? error
        : unknownTopic(name, undefined, "name");
    }
  }

  /**
   * Edits the topic's definition: one edit at a time per topic in this process, and, across
   * processes, written on the revision read (see `NatsTopicCatalog.update`), so no edit
   * overwrites another.
   */
  private edit(
    name: string,
    change: (current: NatsTopicDefinition) => Promise<NatsTopicDefinition>,
  ): Promise<NatsTopicDefinition> {
    if (typeof name !== "string")
      return Promise.reject(unknownTopic(String(name), undefined, "name"));
    return this.definitionEdits.run(name, async () => {
      const stored = await this.catalog.update(name, change);
      if (stored === undefined) throw unknownTopic(name, undefined, "name");
      return stored;
    });
  }

  async describePartition(topic: string, partition: number): Promise<PartitionDescription> {
    const state = await partitionState(this.jsm, await this.partition(topic, partition));
    return {
      topic,
      partition,
      logStartOffset: state.logStartOffset,
      highWatermark: state.highWatermark,
      // No transactions here: everything up to the high watermark is stable.
      lastStableOffset: state.highWatermark,
      sizeBytes: state.sizeBytes,
    };
  }

  async offsetForTimestamp(topic: string, partition: number, timestampMs: number): Promise<number> {
    if (!Number.isFinite(timestampMs))
      throw invalidTopicInput("timestampMs", "milliseconds since the epoch", timestampMs);
    return offsetForTimestamp(this.jsm, await this.partition(topic, partition), timestampMs);
  }

  async deleteRecords(topic: string, partition: number, beforeOffset: number): Promise<void> {
    await deletePartitionRecords(this.jsm, await this.partition(topic, partition), beforeOffset);
  }

  // ---------------------------------------------------------------- groups

  /** The group as it stands now, with expired members dropped from the view. */
  private async current(groupId: string): Promise<GroupRecord | undefined> {
    const group = await this.groups.get(groupId);
    if (group !== undefined)
      expire(group, this.clock.now(), (topic) => this.catalog.get(topic)?.partitions);
    return group;
  }

  async listGroups(): Promise<GroupListing[]> {
    const out: GroupListing[] = [];
    for (const groupId of await this.groups.groupIds()) {
      const group = await this.current(groupId);
      if (group !== undefined)
        out.push({ groupId, state: group.state, members: group.members.length });
    }
    return out;
  }

  async describeGroup(groupId: string): Promise<GroupDescription> {
    const group = typeof groupId === "string" ? await this.current(groupId) : undefined;
    if (group === undefined)
      throw new TopicError("GROUP_ID_NOT_FOUND", `groupId: no group ${groupId}`, "groupId");
    const owners = new Map<string, GroupRecord["members"][number]>();
    const rows = new Map<string, TopicPartition>();
    for (const key of Object.keys(group.offsets)) {
      const cut = key.lastIndexOf("/");
      rows.set(key, { topic: key.slice(0, cut), partition: Number(key.slice(cut + 1)) });
    }
    for (const m of group.members)
      for (const tp of m.assignment) {
        owners.set(offsetKey(tp), m);
        rows.set(offsetKey(tp), tp);
      }
    const offsets: GroupOffsetDescription[] = [];
    const ordered = [...rows.values()].sort((a, b) =>
      a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition,
    );
    for (const tp of ordered) {
      const definition = this.catalog.get(tp.topic);
      if (definition === undefined || tp.partition >= definition.partitions) continue;
      const state = await partitionState(
        this.jsm,
        partitionAddress(this.namespace, definition, tp.partition),
      );
      const c = group.offsets[offsetKey(tp)];
      const owner = owners.get(offsetKey(tp));
      offsets.push({
        topic: tp.topic,
        partition: tp.partition,
        committedOffset: c?.offset ?? -1,
        logEndOffset: state.highWatermark,
        lag: Math.max(0, state.highWatermark - (c?.offset ?? state.logStartOffset)),
        memberId: owner?.memberId,
        clientId: owner?.clientId,
        host: owner?.host,
      });
    }
    return {
      groupId,
      state: group.state,
      protocol: group.protocol,
      generationId: group.generation,
      members: group.members.map((m) => ({
        memberId: m.memberId,
        clientId: m.clientId,
        host: m.host,
        assignment: [...m.assignment],
      })),
      offsets,
    };
  }

  async listGroupOffsets(groupId: string): Promise<Array<TopicPartition & OffsetAndMetadata>> {
    const group = await this.groups.get(groupId);
    if (group === undefined) return [];
    return Object.entries(group.offsets)
      .map(([key, c]) => {
        const cut = key.lastIndexOf("/");
        return {
          topic: key.slice(0, cut),
          partition: Number(key.slice(cut + 1)),
          offset: c.offset,
          metadata: c.metadata,
        };
      })
      .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
  }

  async alterGroupOffsets(
    groupId: string,
    offsets: ReadonlyArray<TopicPartition & OffsetAndMetadata>,
  ): Promise<void> {
    if (typeof groupId !== "string" || groupId.length === 0)
      throw invalidTopicInput("groupId", "a non-empty string", groupId, "INVALID_GROUP_ID");
    for (const o of Array.isArray(offsets) ? (offsets as unknown[]) : [])
      if (typeof (o as TopicPartition | null)?.topic === "string")
        await this.catalog.fetch((o as TopicPartition).topic);
    const entries = checkOffsets(offsets, this.catalog);
    const counts = (topic: string): number | undefined => this.catalog.get(topic)?.partitions;
    await this.groups.update(groupId, (group) => {
      expire(group, this.clock.now(), counts);
      ensureEmpty(groupId, group);
      writeOffsets(group, entries);
      return { result: undefined, changed: true };
    });
  }

  async deleteGroup(groupId: string): Promise<void> {
    const counts = (topic: string): number | undefined => this.catalog.get(topic)?.partitions;
    await this.groups.remove(groupId, (group) => {
      if (group === undefined)
        throw new TopicError("GROUP_ID_NOT_FOUND", `groupId: no group ${groupId}`, "groupId");
      expire(group, this.clock.now(), counts);
      ensureEmpty(groupId, group);
    });
  }
}

function ensureEmpty(groupId: string, group: GroupRecord): void {
  if (group.members.length > 0)
    throw new TopicError(
      "NON_EMPTY_GROUP",
      `groupId: group ${groupId} has ${group.members.length} members`,
      "groupId",
    );
}
