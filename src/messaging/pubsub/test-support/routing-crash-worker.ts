// A worker process for the routing crash test: publishes to a topic (raw queue subscription)
// and puts events on a bus (rule -> queue target), all under fsync "always", until killed.
//
// Protocol on stdout (one write per line):
//   p <body>   before publish: the message may be stored from now on
//   P <body>   after publish resolved: acknowledged
//   e <body>   before putEvents
//   E <body>   after putEvents resolved: acknowledged
import { join } from "node:path";
import { EmbeddedEventBus } from "../../bus/embedded-event-bus.js";
import { EmbeddedQueueService } from "../../queues/index.js";
import { EmbeddedPubSubService } from "../embedded-pubsub-service.js";

const [dir, round] = process.argv.slice(2);
if (dir === undefined || round === undefined)
  throw new Error("usage: routing-crash-worker DIR ROUND");

const queues = await EmbeddedQueueService.open(join(dir, "queues"), { fsync: "always" });
const pubsub = await EmbeddedPubSubService.open(join(dir, "pubsub"), { queues, fsync: "always" });
const bus = await EmbeddedEventBus.open(join(dir, "bus"), { queues, fsync: "always" });
await queues.createQueue({ QueueName: "from-topic" });
await queues.createQueue({ QueueName: "from-bus" });
const { TopicArn } = await pubsub.createTopic({ Name: "t" });
await pubsub.subscribe({
  TopicArn,
  Protocol: "sqs",
  Endpoint: "arn:aws:sqs:us-east-1:000000000000:from-topic",
  Attributes: { RawMessageDelivery: "true" },
});
await bus.putRule({ Name: "r", EventPattern: '{"source":["crash"]}' });
await bus.putTargets({
  Rule: "r",
  Targets: [
    { Id: "q", Arn: "arn:aws:sqs:us-east-1:000000000000:from-bus", InputPath: "$.detail.body" },
  ],
});

let counter = 0;
async function publisher(): Promise<void> {
  for (;;) {
    const body = `p${round}-${counter++}`;
    process.stdout.write(`p ${body}\n`);
    await pubsub.publish({ TopicArn, Message: body });
    process.stdout.write(`P ${body}\n`);
  }
}
async function putter(): Promise<void> {
  for (;;) {
    const body = `e${round}-${counter++}`;
    process.stdout.write(`e ${body}\n`);
    await bus.putEvents({
      Entries: [{ Source: "crash", DetailType: "x", Detail: JSON.stringify({ body }) }],
    });
    process.stdout.write(`E ${body}\n`);
  }
}
await Promise.all([publisher(), publisher(), putter(), putter()]);
