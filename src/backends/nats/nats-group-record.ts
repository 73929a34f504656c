import type { GroupMembership } from "../../messaging/topics/group-membership.js";
import { emptyMembership } from "../../messaging/topics/group-membership.js";
import type { TopicPartition } from "../../messaging/topics/topic-admin.js";

export interface CommittedOffsetRecord {
  readonly offset: number;
  readonly metadata: string;
}

/**
 * A consumer group as one value in the key-value bucket: the group's membership (the shared
 * protocol of `group-membership.ts`) and its committed offsets. Every change is a
 * compare-and-set of the whole value, so members in different processes change it one at a
 * time, and a commit is checked against the generation and assignment it is written beside.
 */
export interface GroupRecord extends GroupMembership {
  /** `<topic>/<partition>` -> committed offset. */
  offsets: Record<string, CommittedOffsetRecord>;
}

export const offsetKey = (tp: TopicPartition): string => `${tp.topic}/${tp.partition}`;

export function emptyGroup(): GroupRecord {
  return { ...emptyMembership(), offsets: {} };
}
