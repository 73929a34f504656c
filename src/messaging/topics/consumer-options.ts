import { ASSIGNORS } from "./assignors.js";
import { isList } from "./input-checks.js";
import type {
  AssignorName,
  ConsumerOptions,
  IsolationLevel,
  OffsetReset,
} from "./topic-consumer.js";
import { invalidTopicInput } from "./topic-error.js";
import { MAX_TIMER_MS } from "../../time/index.js";
import { intOption } from "./int-option.js";

/** A consumer's options, checked, with Kafka's defaults filled in. */
export interface ResolvedConsumerOptions {
  readonly groupId: string | undefined;
  readonly clientId: string;
  readonly assignors: readonly AssignorName[];
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly autoCommit: boolean;
  readonly autoCommitIntervalMs: number;
  readonly autoOffsetReset: OffsetReset;
  readonly maxPollRecords: number;
  readonly maxPartitionFetchBytes: number;
  readonly isolationLevel: IsolationLevel;
}

let clientCounter = 0;

/** Validates consumer options at the edge and fills in Kafka's defaults. */
export function resolveConsumerOptions(options: ConsumerOptions): ResolvedConsumerOptions {
  const groupId = options.groupId;
  if (groupId !== undefined && (typeof groupId !== "string" || groupId.length === 0))
    throw invalidTopicInput("groupId", "a non-empty string", groupId, "INVALID_GROUP_ID");
  const assignors = options.assignors ?? ["range", "cooperative-sticky"];
  if (!isList(assignors) || assignors.length === 0)
    throw invalidTopicInput(
      "assignors",
      "a non-empty list of assignors",
      assignors,
      "INVALID_CONFIG",
    );
  for (const a of assignors)
    if (!ASSIGNORS.includes(a))
      throw invalidTopicInput(
        "assignors",
        `"range", "roundrobin" or "cooperative-sticky"`,
        a,
        "INVALID_CONFIG",
      );
  const reset = options.autoOffsetReset ?? "latest";
  if (!["earliest", "latest", "none"].includes(reset))
    throw invalidTopicInput(
      "autoOffsetReset",
      `"earliest", "latest" or "none"`,
      reset,
      "INVALID_CONFIG",
    );
  const isolation = options.isolationLevel ?? "read_uncommitted";
  if (isolation !== "read_uncommitted" && isolation !== "read_committed")
    throw invalidTopicInput(
      "isolationLevel",
      `"read_uncommitted" or "read_committed"`,
      isolation,
      "INVALID_CONFIG",
    );
  const sessionTimeoutMs = intOption(
    options.sessionTimeoutMs,
    "sessionTimeoutMs",
    1,
    45_000,
    MAX_TIMER_MS,
  );
  const heartbeatIntervalMs = intOption(
    options.heartbeatIntervalMs,
    "heartbeatIntervalMs",
    1,
    3000,
    MAX_TIMER_MS,
  );
  if (heartbeatIntervalMs >= sessionTimeoutMs)
    throw invalidTopicInput(
      "heartbeatIntervalMs",
      `less than sessionTimeoutMs (${sessionTimeoutMs})`,
      heartbeatIntervalMs,
      "INVALID_SESSION_TIMEOUT",
    );
  return {
    groupId,
    isolationLevel: isolation,
    clientId: options.clientId ?? `consumer-${++clientCounter}`,
    assignors,
    sessionTimeoutMs,
    heartbeatIntervalMs,
    rebalanceTimeoutMs: intOption(
      options.rebalanceTimeoutMs,
      "rebalanceTimeoutMs",
      1,
      300_000,
      MAX_TIMER_MS,
    ),
    autoCommit: options.autoCommit ?? true,
    autoCommitIntervalMs: intOption(
      options.autoCommitIntervalMs,
      "autoCommitIntervalMs",
      0,
      5000,
      MAX_TIMER_MS,
    ),
    autoOffsetReset: reset,
    maxPollRecords: intOption(options.maxPollRecords, "maxPollRecords", 1, 500),
    maxPartitionFetchBytes: intOption(
      options.maxPartitionFetchBytes,
      "maxPartitionFetchBytes",
      1,
      1024 * 1024,
    ),
  };
}
