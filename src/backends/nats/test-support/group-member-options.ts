import type { ConsumerOptions } from "../../../messaging/topics/index.js";

/**
 * The consumer settings of every member in the SIGKILL-mid-rebalance test, in the test's own
 * process and in its worker processes alike: the rebalance timing it asserts depends on both
 * sides agreeing (a short session, frequent heartbeats, a few records a poll).
 */
export const GROUP_MEMBER_OPTIONS: ConsumerOptions = {
  groupId: "g",
  autoOffsetReset: "earliest",
  autoCommit: false,
  sessionTimeoutMs: 2000,
  heartbeatIntervalMs: 300,
  maxPollRecords: 4,
};
