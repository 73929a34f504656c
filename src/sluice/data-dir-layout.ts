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
