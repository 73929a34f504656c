// A process for the topics crash test, run until it is SIGKILLed, on a data directory with
// fsync "always". Three loops at once, each printing what was acknowledged:
//   "ack LABEL"           a record a plain producer had acknowledged;
//   "commit LABEL,..."    records of a transaction whose commit was acknowledged;
//   "abort LABEL,..."     records of a transaction that is being aborted (never to be visible);
//   "offset P OFFSET"     a consumer-group commit of partition P that was acknowledged;
//   "rebalance" / "settled"  a member left and another joined / the group is stable again with
//                         every partition assigned (the test counts kills between the two),
// while members of the group keep leaving and joining, so the kill lands mid-rebalance.
// It writes "ready" once loaded and opens the directory only when the test says go.
import { waitForGo } from "../../../engine/test-support/warm-worker.js";
import { EmbeddedTopicService } from "../embedded-topic-service.js";
import type { TopicConsumer } from "../topic-consumer.js";
import { isTopicError } from "../topic-error.js";

const [dir, round = "0"] = process.argv.slice(2);
if (dir === undefined) throw new Error("usage: topic-crash-worker DIR ROUND");
const TOPIC = "crash";
const PARTITIONS = 3;

const print = (line: string): void => void process.stdout.write(`${line}\n`);
await waitForGo();
const service = await EmbeddedTopicService.open(dir, { fsync: "always" });
if (!(await service.admin.listTopics()).includes(TOPIC))
  await service.admin.createTopic({ name: TOPIC, partitions: PARTITIONS });
print("open");

async function plainProducer(): Promise<never> {
  const producer = service.producer({ lingerMs: 1 });
  for (let n = 0; ; n++) {
    const labels = Array.from({ length: 5 }, (_, i) => `r${round}-p${n}-${i}`);
    await producer.sendBatch(labels.map((label) => ({ topic: TOPIC, key: label, value: label })));
    for (const label of labels) print(`ack ${label}`);
  }
}

async function transactionalProducer(): Promise<never> {
  const producer = service.producer({ transactionalId: "crash-tx", lingerMs: 0 });
  await producer.initTransactions();
  for (let n = 0; ; n++) {
    const labels = Array.from({ length: 3 }, (_, i) => `r${round}-t${n}-${i}`);
    await producer.beginTransaction();
    await producer.sendBatch(labels.map((label) => ({ topic: TOPIC, key: label, value: label })));
    if (n % 3 === 2) {
      print(`abort ${labels.join(",")}`);
      await producer.abortTransaction();
    } else {
      await producer.commitTransaction();
      print(`commit ${labels.join(",")}`);
    }
  }
}

const REBALANCING = [
  "REBALANCE_IN_PROGRESS",
  "ILLEGAL_GENERATION",
  "COMMIT_FAILED",
  "UNKNOWN_MEMBER_ID",
] as const;

async function consumerGroup(): Promise<never> {
  const member = (): TopicConsumer =>
    service.consumer({
      groupId: "cg",
      autoCommit: false,
      autoOffsetReset: "earliest",
      assignors: ["cooperative-sticky"],
      heartbeatIntervalMs: 50,
      sessionTimeoutMs: 1000,
      maxPollRecords: 50,
    });
  const members: TopicConsumer[] = [];
  for (let i = 0; i < 2; i++) {
    members.push(member());
    await members[i]!.subscribe([TOPIC]);
  }
  const settled = async (): Promise<boolean> => {
    const group = await service.admin.describeGroup("cg");
    const assigned = group.members.reduce((sum, m) => sum + m.assignment.length, 0);
    return group.state === "Stable" && group.members.length === 2 && assigned === PARTITIONS;
  };
  let rebalancing = false;
  for (let n = 1; ; n++) {
    if (rebalancing && (await settled())) {
      print("settled");
      rebalancing = false;
    }
    for (const c of members) {
      const records = await c.poll({ timeoutMs: 5 });
      const next = new Map<number, number>();
      for (const r of records) next.set(r.partition, r.offset + 1);
      const offsets = [...next].map(([partition, offset]) => ({ topic: TOPIC, partition, offset }));
      if (offsets.length === 0) continue;
      try {
        await c.commitSync(offsets);
        for (const o of offsets) print(`offset ${o.partition} ${o.offset}`);
      } catch (error) {
        if (!REBALANCING.some((name) => isTopicError(error, name))) throw error;
      }
    }
    if (n % 4 === 0) {
      // One member leaves and a new one joins: the group rebalances again.
      print("rebalance");
      rebalancing = true;
      await members.shift()!.close();
      const joining = member();
      await joining.subscribe([TOPIC]);
      members.push(joining);
    }
  }
}

await Promise.all([plainProducer(), transactionalProducer(), consumerGroup()]);
