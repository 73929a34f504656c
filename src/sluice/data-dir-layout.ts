import { join } from "node:path";
import type { FileSystem } from "../engine/index.js";

/** Where each primitive lives inside one data directory. */
export interface DataDirLayout {
  readonly queues: string;
  readonly topics: string;
  readonly eventstore: string;
  readonly pubsub: string;
  readonly bus: string;
  /** The directory was written by a release whose queue service owned the whole directory. */
  readonly legacyQueues: boolean;
}

/** The sub-directories `open(dir)` makes, one per primitive. */
export const PRIMITIVE_DIRECTORIES = ["queues", "topics", "eventstore", "pubsub", "bus"] as const;

/**
 * Whether `dir` holds a Sluice data directory: one of the primitives' sub-directories, or the
 * `catalog/` of a queue directory an earlier release wrote (which `open(dir)` opens unchanged).
 */
export function isDataDirectory(fs: FileSystem, dir: string): boolean {
  return [...PRIMITIVE_DIRECTORIES, "catalog"].some((name) => fs.exists(join(dir, name)));
}

/**
 * Every primitive in its own sub-directory. A directory that an earlier release's
 * `EmbeddedQueueService.open(dir)` wrote (its `catalog/` at the top) keeps its queues where
 * they are, so it opens unchanged; the other primitives still get their own sub-directories.
 */
export function dataDirLayout(fs: FileSystem, dir: string): DataDirLayout {
  const legacyQueues = fs.exists(join(dir, "catalog"));
  return {
    queues: legacyQueues ? dir : join(dir, "queues"),
    topics: join(dir, "topics"),
    eventstore: join(dir, "eventstore"),
    pubsub: join(dir, "pubsub"),
    bus: join(dir, "bus"),
    legacyQueues,
  };
}
