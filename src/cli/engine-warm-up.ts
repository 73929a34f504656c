import type { FsyncPolicy } from "../engine/index.js";

/**
 * Runs the engines' warm-ups a server needs before it listens (queues and topics, or topics
 * alone for the Kafka listener), under the served directory's fsync policy (the services' default
 * when none is given), and says so in one banner line; a failed warm-up is reported
 * there, not fatal: the server then serves without it.
 */
export async function warmUpEngines(
  engines: { readonly queues: boolean },
  fsync?: FsyncPolicy,
): Promise<string> {
  const [{ warmUpQueues }, { warmUpTopics }] = await Promise.all([
    import("../messaging/queues/warm-up.js"),
    import("../messaging/topics/warm-up.js"),
  ]);
  try {
    const options = fsync === undefined ? {} : { fsync };
    const queues = engines.queues ? await warmUpQueues(options) : undefined;
    const topics = await warmUpTopics(options);
    const ms = Math.round((queues?.elapsedMs ?? 0) + topics.elapsedMs);
    const what =
      queues === undefined
        ? `${topics.records} topic records`
        : `${queues.messages} queue messages and ${topics.records} topic records`;
    return `engine warmed up: ${what} in ${ms} ms\n`;
  } catch (error) {
    return `engine warm-up failed (${(error as Error).message}); serving without it\n`;
  }
}
