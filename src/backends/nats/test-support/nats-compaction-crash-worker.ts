// A topic process for the NATS compaction SIGKILL test: writes keyed records, values and
// tombstones, to one compacted partition while it compacts that partition round after round,
// until it is killed.
//
// Protocol on stdout:
//   ready                        the topic exists and records are being written
//   s <id> <key> <value>         before a send: the record may be stored from now on
//   S <id> <key> <value> <offset> after it resolved: the record is stored at that offset
//   c                            before a compaction round
//   C <removed>                  after it
// Each record carries its id in an "id" header: `<round>-<n>`, n counting the sends of the
// round one after another, so ids order the records as the partition does. A key "-" is a
// record without a key, a value "~" a tombstone.
import { NatsTopicService } from "../nats-topic-service.js";

const [servers, namespace, roundArg] = process.argv.slice(2);
if (servers === undefined || namespace === undefined || roundArg === undefined)
  throw new Error("usage: nats-compaction-crash-worker SERVERS NAMESPACE ROUND");

const KEYS = 16;
const service = await NatsTopicService.open({
  servers,
  namespace,
  replicas: 3,
  compactionIntervalMs: 0, // rounds when this worker asks, back to back
  deleteRetentionMs: 0,
});
if (!(await service.admin.listTopics()).includes("state"))
  await service.admin.createTopic({ name: "state", cleanupPolicy: "compact" });
const producer = service.producer({ lingerMs: 0 });
process.stdout.write("ready\n");

async function produce(): Promise<void> {
  for (let n = 0; ; n++) {
    const id = `${roundArg}-${n}`;
    const key = n % 10 === 9 ? null : `k${(n * 7) % KEYS}`;
    const value = key !== null && n % 11 === 3 ? null : `v${id}`;
    const line = `${id} ${key ?? "-"} ${value ?? "~"}`;
    process.stdout.write(`s ${line}\n`);
    const { offset } = await producer.send({
      topic: "state",
      partition: 0,
      key,
      value,
      headers: [{ key: "id", value: id }],
    });
    process.stdout.write(`S ${line} ${offset}\n`);
  }
}

async function compact(): Promise<void> {
  for (;;) {
    process.stdout.write("c\n");
    const rounds = await service.compactTopics();
    process.stdout.write(`C ${rounds.get("state-0")?.removed ?? 0}\n`);
  }
}

await Promise.all([produce(), compact()]);
