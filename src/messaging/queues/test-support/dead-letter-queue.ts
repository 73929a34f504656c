import type { QueueService } from "../queue-service.js";

/** Queue `jobs`, whose messages go to `jobs-dlq` after their first receive. */
export async function queueWithDeadLetterQueue(
  service: QueueService,
): Promise<{ dlq: { QueueUrl: string }; QueueUrl: string }> {
  const dlq = await service.createQueue({ QueueName: "jobs-dlq" });
  const { QueueUrl } = await service.createQueue({
    QueueName: "jobs",
    Attributes: {
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: "arn:aws:sqs:us-east-1:000000000000:jobs-dlq",
        maxReceiveCount: 1,
      }),
    },
  });
  return { dlq, QueueUrl };
}
