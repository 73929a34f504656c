// Idempotent producers of three clients (kafkajs, @platformatic/kafka, librdkafka through
// confluent_kafka) sending at once to the same partitions. Kafka's rule: each producer gets its
// own producer id (InitProducerId), sequences are per (producer id, partition), and every
// acknowledged record is stored exactly once.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { Producer, stringSerializers } from "@platformatic/kafka";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EmbeddedTopicService } from "../../messaging/topics/embedded-topic-service.js";
import type { KafkaServer } from "./kafka-server.js";
import { PYTHON, pythonHas } from "./test-support/client-processes.js";
import { EmbeddedListener } from "./test-support/embedded-listener.js";
import { storedValues } from "./test-support/stored-batches.js";

let listener: EmbeddedListener;
let topics: EmbeddedTopicService;
let server: KafkaServer;
const N = 600;

/** An idempotent librdkafka producer (confluent_kafka): BOOTSTRAP TOPIC NAME COUNT. */
const RDK_PRODUCER = `import sys, json
from confluent_kafka import Producer
bootstrap, topic, name, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 2,
              "batch.num.messages": 7, "max.in.flight.requests.per.connection": 5})
errors = []
def cb(err, msg):
    if err is not None: errors.append(str(err))
for i in range(n):
    p.produce(topic, value=f"{name}-{i}".encode(), partition=i % 3, on_delivery=cb)
    if i % 50 == 0: p.poll(0)
p.flush(30)
print(json.dumps({"errors": errors[:5], "nerrors": len(errors)}))
`;

beforeAll(async () => {
  listener = await EmbeddedListener.start("idempotent-concurrent");
  ({ topics, server } = listener);
});

afterAll(async () => {
  await listener.close();
});

async function stored(topic: string): Promise<string[]> {
  const values: string[] = [];
  for (let p = 0; p < 3; p++) values.push(...(await storedValues(topics, topic, p)));
  return values;
}

describe.skipIf(!pythonHas("confluent_kafka"))("concurrent idempotent producers", () => {
  it("kafkajs, platformatic and librdkafka at once: every record stored once", async () => {
    const topic = `idemc-${Date.now()}`;
    await topics.admin.createTopic({ name: topic, partitions: 3 });
    const bootstrap = `127.0.0.1:${server.port}`;
    const kafka = new Kafka({
      clientId: "idemc",
      brokers: [bootstrap],
      logLevel: logLevel.NOTHING,
    });
    const kjs = [0, 1].map(() => kafka.producer({ idempotent: true, maxInFlightRequests: 1 }));
    const plat = [0, 1].map(
      (i) =>
        new Producer({
          clientId: `idemc-plat-${i}`,
          bootstrapBrokers: [bootstrap],
          idempotent: true,
          serializers: stringSerializers,
        }),
    );
    for (const p of kjs) await p.connect();
    try {
      const run = promisify(execFile);
      const rdk = [0, 1].map((i) =>
        run(PYTHON, ["-c", RDK_PRODUCER, bootstrap, topic, `rdk${i}`, String(N)]),
      );
      const sendKjs = kjs.map(async (p, k) => {
        for (let i = 0; i < N; i += 20)
          await Promise.all(
            Array.from({ length: 20 }, (_, j) =>
              p.send({ topic, messages: [{ value: `kjs${k}-${i + j}`, partition: (i + j) % 3 }] }),
            ),
          );
      });
      const sendPlat = plat.map(async (p, k) => {
        // One send at a time: @platformatic/kafka 1.35 gives concurrent sends of one producer
        // the same sequence (it advances sequences only on the answer), so a broker, Kafka
        // included, acknowledges all but the first as duplicates and stores none of them.
        for (let i = 0; i < N; i += 20)
          await p.send({
            messages: Array.from({ length: 20 }, (_, j) => ({
              topic,
              value: `plat${k}-${i + j}`,
              partition: (i + j) % 3,
            })),
          });
      });
      const [rdkOut] = await Promise.all([Promise.all(rdk), ...sendKjs, ...sendPlat]);
      for (const o of rdkOut) expect((JSON.parse(o.stdout) as { nerrors: number }).nerrors).toBe(0);
      const values = await stored(topic);
      const counts = new Map<string, number>();
      for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
      const dups = [...counts].filter(([, c]) => c > 1);
      const missing: string[] = [];
      for (const name of ["kjs0", "kjs1", "plat0", "plat1", "rdk0", "rdk1"])
        for (let i = 0; i < N; i++) if (!counts.has(`${name}-${i}`)) missing.push(`${name}-${i}`);
      expect({
        dups: dups.slice(0, 5),
        missing: missing.slice(0, 5),
        nMissing: missing.length,
      }).toEqual({
        dups: [],
        missing: [],
        nMissing: 0,
      });
      expect(values.length).toBe(6 * N);
    } finally {
      for (const p of kjs) await p.disconnect();
      for (const p of plat) await p.close();
    }
  }, 120_000);
});
