import type { PeekedMessage, QueueService } from "../queue-service.js";

/** Every message of a queue in sequence order, paging through peekMessages (no state change). */
export async function peekAll(service: QueueService, QueueUrl: string): Promise<PeekedMessage[]> {
  const all: PeekedMessage[] = [];
  for (let after: string | undefined; ;) {
    const { Messages } = await service.peekMessages({
      QueueUrl,
      MaxNumberOfMessages: 1000,
      ...(after === undefined ? {} : { AfterSequenceNumber: after }),
    });
    if (Messages.length === 0) return all;
    all.push(...Messages);
    after = Messages[Messages.length - 1]!.SequenceNumber;
  }
}
