// A consumer-group member in its own process, for the test that SIGKILLs a member while its
// group rebalances. It reads the topic "work" in group "g", a few records at a time, and
// commits after each batch. When the group asks it to give up its partitions it announces it
// and hangs there, in the middle of the rebalance, until it is killed.
//
// Protocol on stdout (one write per step):
//   A <p,p,...>   its assignment, once it has one
//   r <p> <o>     a record it read
//   C <p> <o>     committed: partition p's records before offset o are processed
//   R             asked to revoke its partitions (mid-rebalance; it hangs from here)
import { setTimeout as sleep } from "node:timers/promises";
import { NatsTopicService } from "../nats-topic-service.js";
import { GROUP_MEMBER_OPTIONS } from "./group-member-options.js";

const [servers, namespace] = process.argv.slice(2);
if (servers === undefined || namespace === undefined)
  throw new Error("usage: nats-group-member-worker SERVERS NAMESPACE");

const service = await NatsTopicService.open({ servers, namespace });
const consumer = service.consumer(GROUP_MEMBER_OPTIONS);
let announced = false;
await consumer.subscribe(["work"], {
  onPartitionsRevoked: async (partitions) => {
    if (partitions.length === 0) return;
    process.stdout.write("R\n");
    await new Promise<never>(() => undefined); // the rebalance waits for us; we die here
  },
});
for (;;) {
  const records = await consumer.poll({ timeoutMs: 200 });
  const assignment = consumer.assignment();
  if (!announced && assignment.length > 0) {
    announced = true;
    process.stdout.write(`A ${assignment.map((tp) => tp.partition).join(",")}\n`);
  }
  if (records.length === 0) continue;
  process.stdout.write(records.map((r) => `r ${r.partition} ${r.offset}\n`).join(""));
  await sleep(50); // the work
  await consumer.commitSync();
  process.stdout.write(
    assignment.map((tp) => `C ${tp.partition} ${consumer.position(tp)}\n`).join(""),
  );
}
