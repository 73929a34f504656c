// A queue worker process for the NATS SIGKILL test: sends, receives and deletes on one queue
// from several loops until it is killed.
//
// Protocol on stdout (one write per batch, so a batch's lines go out together):
//   s <body>   before a sendMessageBatch: the body may be stored from now on
//   S <body>   after it resolved: the body is acknowledged as stored
//   d <body>   before a deleteMessageBatch: the message may be deleted from now on
//   D <body>   after it resolved: the delete is acknowledged
//   p <body>   before a send to the "poison" queue, whose every message is dead-lettered
//   P <body>   after it resolved (each must end in "poison" or its dead-letter queue)
// Bodies are unique across rounds: `r<round>-<counter>`.
import { NatsQueueService } from "../nats-queue-service.js";

const [servers, namespace, roundArg] = process.argv.slice(2);
if (servers === undefined || namespace === undefined || roundArg === undefined)
  throw new Error("usage: nats-crash-worker SERVERS NAMESPACE ROUND");

const service = await NatsQueueService.open({
  servers,
  namespace,
  replicas: 3,
  catalogBucket: "SLUICE_CRASH_catalog",
});
const { QueueUrl } = await service.createQueue({ QueueName: "jobs" });
const dlq = await service.createQueue({ QueueName: "poison-dlq" });
const { Attributes } = await service.getQueueAttributes({
  QueueUrl: dlq.QueueUrl,
  AttributeNames: ["QueueArn"],
});
// Received once and not deleted, a message is dead-lettered at its next receive.
const poison = await service.createQueue({
  QueueName: "poison",
  Attributes: {
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes.QueueArn, maxReceiveCount: 1 }),
  },
});
let counter = 0;

async function produce(): Promise<void> {
  for (;;) {
    const bodies = Array.from({ length: 10 }, () => `r${roundArg}-${counter++}`);
    process.stdout.write(bodies.map((b) => `s ${b}\n`).join(""));
    await service.sendMessageBatch({
      QueueUrl,
      Entries: bodies.map((MessageBody, i) => ({ Id: `e${i}`, MessageBody })),
    });
    process.stdout.write(bodies.map((b) => `S ${b}\n`).join(""));
  }
}

async function consume(): Promise<void> {
  for (;;) {
    const { Messages } = await service.receiveMessage({
      QueueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 1,
    });
    if (Messages.length === 0) continue;
    process.stdout.write(Messages.map((m) => `d ${m.Body}\n`).join(""));
    await service.deleteMessageBatch({
      QueueUrl,
      Entries: Messages.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })),
    });
    process.stdout.write(Messages.map((m) => `D ${m.Body}\n`).join(""));
  }
}

async function poisonLoop(): Promise<void> {
  for (;;) {
    const bodies = Array.from({ length: 5 }, () => `r${roundArg}-${counter++}`);
    process.stdout.write(bodies.map((b) => `p ${b}\n`).join(""));
    await service.sendMessageBatch({
      QueueUrl: poison.QueueUrl,
      Entries: bodies.map((MessageBody, i) => ({ Id: `e${i}`, MessageBody })),
    });
    process.stdout.write(bodies.map((b) => `P ${b}\n`).join(""));
    // Visible again at once: the next receive finds them past maxReceiveCount.
    await service.receiveMessage({
      QueueUrl: poison.QueueUrl,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: 0,
    });
  }
}

process.stdout.write("ready\n");
await Promise.all([produce(), produce(), consume(), poisonLoop()]);
