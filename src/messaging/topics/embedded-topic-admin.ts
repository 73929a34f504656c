import { asError } from "../../errors/index.js";
import { checkGroupId, checkPartitionList, checkTopicOptions } from "./input-checks.js";
import type { GroupCoordinator } from "./group-coordinator.js";
import type {
  CreateTopicInput,
  GroupDescription,
  GroupListing,
  OffsetAndMetadata,
  PartitionDescription,
  TopicAdmin,
  TopicConfig,
  TopicDescription,
  TopicPartition,
} from "./topic-admin.js";
import type { TopicBroker } from "./topic-broker.js";
import { invalidTopicInput } from "./topic-error.js";

/** The admin of the embedded backend: a thin face over the broker and the group coordinator. */
export class EmbeddedTopicAdmin implements TopicAdmin {
  constructor(
    private readonly broker: TopicBroker,
    private readonly coordinator: GroupCoordinator,
  ) {}

  createTopic(input: CreateTopicInput): Promise<TopicDescription> {
    return this.broker.createTopic(input);
  }

  deleteTopic(name: string): Promise<void> {
    return this.broker.deleteTopic(name);
  }

  listTopics(options: { readonly includeInternal?: boolean } = {}): Promise<string[]> {
    return attempt(() => {
      const { includeInternal } = checkTopicOptions(options);
      if (includeInternal !== undefined && typeof includeInternal !== "boolean")
        throw invalidTopicInput("includeInternal", "true or false", includeInternal);
      return this.broker.listTopics(includeInternal === true);
    });
  }

  describeTopic(name: string): Promise<TopicDescription> {
    return attempt(() => this.broker.describeTopic(name));
  }

  alterTopicConfig(name: string, config: Partial<TopicConfig>): Promise<TopicDescription> {
    try {
      return this.broker.alterConfig(name, checkTopicOptions(config, "config"));
    } catch (error) {
      return Promise.reject(asError(error));
    }
  }

  createPartitions(name: string, totalCount: number): Promise<void> {
    return this.broker.createPartitions(name, totalCount);
  }

  describePartition(topic: string, partition: number): Promise<PartitionDescription> {
    return attempt(() => {
      const log = this.broker.partitionLog(topic, partition);
      return {
        topic: log.topic,
        partition: log.partition,
        logStartOffset: log.logStartOffset,
        highWatermark: log.highWatermark,
        lastStableOffset: log.lastStableOffset,
        sizeBytes: log.sizeBytes,
      };
    });
  }

  offsetForTimestamp(topic: string, partition: number, timestampMs: number): Promise<number> {
    return attempt(() => {
      if (!Number.isFinite(timestampMs))
        throw invalidTopicInput("timestampMs", "milliseconds since the epoch", timestampMs);
      return this.broker.partitionLog(topic, partition).offsetForTimestamp(timestampMs);
    });
  }

  async deleteRecords(topic: string, partition: number, beforeOffset: number): Promise<void> {
    if (!Number.isSafeInteger(beforeOffset))
      throw invalidTopicInput("beforeOffset", "an offset", beforeOffset);
    await this.broker.partitionLog(topic, partition).deleteRecordsBefore(beforeOffset);
  }

  listGroups(): Promise<GroupListing[]> {
    return attempt(() => this.coordinator.list());
  }

  describeGroup(groupId: string): Promise<GroupDescription> {
    return attempt(() => this.coordinator.describe(checkGroupId(groupId)));
  }

  listGroupOffsets(groupId: string): Promise<Array<TopicPartition & OffsetAndMetadata>> {
    return attempt(() => this.coordinator.offsets.list(checkGroupId(groupId)));
  }

  alterGroupOffsets(
    groupId: string,
    offsets: ReadonlyArray<TopicPartition & OffsetAndMetadata>,
  ): Promise<void> {
    try {
      checkGroupId(groupId);
      checkPartitionList(offsets, "offsets");
    } catch (error) {
      return Promise.reject(asError(error));
    }
    return this.coordinator.alterOffsets(groupId, offsets);
  }

  deleteGroup(groupId: string): Promise<void> {
    try {
      checkGroupId(groupId);
    } catch (error) {
      return Promise.reject(asError(error));
    }
    return this.coordinator.deleteGroup(groupId);
  }
}

/** Runs synchronous admin work as a promise, so errors reject instead of throwing. */
function attempt<T>(run: () => T): Promise<T> {
  try {
    return Promise.resolve(run());
  } catch (error) {
    return Promise.reject(asError(error));
  }
}
