import type { FsyncPolicy } from "../engine/index.js";

/**
 * Runs the engines' warm-ups a server needs before it listens (queues and topics, or topics
 * alone for the Kafka listener) and says so in one banner line; a failed warm-up is reported
 * there, not fatal: the server then serves without it.
 */
export async function warmUpEngines(
  engines: { readonly queues: boolean },
  fsync: FsyncPolicy,
): Promise<string> {
  const [{ warmUpQueues }, { warmUpTopics }] = await Promise.all([
    import("../messaging/queues/warm-up.js"),
    import("../messaging/topics/warm-up.js"),
  ]);
  try {
    const queues = engines.queues ? await warmUpQueues({ fsync }) : undefined;
    const topics = await warmUpTopics({ fsync });
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
