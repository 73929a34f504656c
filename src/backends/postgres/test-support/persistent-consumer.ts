// A consumer process for the cross-process persistent subscription test: connects to a group
// on PostgreSQL and prints each delivery as a JSON line. "ack" acknowledges each one after
// holding it a moment; "hold" never settles anything (the test kills it).
import { PostgresEventStore } from "../postgres-event-store.js";

const [connection, schema, group, mode = "ack"] = process.argv.slice(2);
if (connection === undefined || schema === undefined || group === undefined)
  throw new Error("usage: persistent-consumer URL SCHEMA GROUP [ack|hold]");

const store = await PostgresEventStore.open({ connection, schema, pollIntervalMs: 100 });
const stop = new AbortController();
process.on("SIGTERM", () => stop.abort());
process.stdout.write("ready\n");
for await (const delivery of store
  .persistentSubscriptions()
  .connect(group, { signal: stop.signal, maxInFlight: 5 })) {
  const { n } = delivery.event.data as { n: number };
  process.stdout.write(`${JSON.stringify({ n, retryCount: delivery.retryCount })}\n`);
  if (mode === "ack") {
    await new Promise((resolve) => setTimeout(resolve, 2));
    await delivery.ack();
  }
}
await store.close();
