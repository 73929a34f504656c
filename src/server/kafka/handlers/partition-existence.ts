import type { RequestContext } from "../api-handler.js";

/**
 * Whether a partition of the topics a request names exists here: one describe per distinct
 * topic (a topic that cannot be described has no partitions), asked before the answer is made.
 */
export async function partitionExistence(
  topics: readonly { readonly name: string }[],
  context: RequestContext,
): Promise<(topic: string, partition: number) => boolean> {
  const counts = new Map<string, number>();
  for (const { name } of topics)
    if (!counts.has(name))
      counts.set(
        name,
        await context.backend.admin.describeTopic(name).then(
          (t) => t.partitions,
          () => 0,
        ),
      );
  return (topic, partition) =>
    Number.isInteger(partition) && partition >= 0 && partition < (counts.get(topic) ?? 0);
}
