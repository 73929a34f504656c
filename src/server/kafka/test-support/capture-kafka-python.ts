// Records the requests kafka-python sends (Debian's python3-kafka; the first of each API and
// version) as fixtures for the codec test. Its producer and consumer use the versions of the
// Kafka release they are told (2.1.0, 2.0.0, … 0.11.0: Produce v7 down to v3); its admin client
// takes the highest version both sides know, so runs also advertise at most v2, v1, v0 of the
// admin APIs (test-support/capture-harness.ts):
//   npx tsx src/server/kafka/test-support/capture-kafka-python.ts
import { CapturedRequests, type Ceiling, captureRun, writeFixture } from "./capture-harness.js";
import { PYTHON, clientScript, runJson } from "./client-processes.js";

/**
 * The APIs only the admin client sends: CreateTopics, DeleteTopics, DescribeGroups, ListGroups,
 * DescribeConfigs, AlterConfigs, CreatePartitions, DeleteGroups. The runs cap these alone: the
 * producer and consumer, told a release, do not negotiate, and the admin client finds the
 * controller in Metadata v1 on.
 */
const ADMIN_ONLY = new Set([19, 20, 15, 16, 32, 33, 37, 42]);

const requests = new CapturedRequests();
for (const [release, level] of [
  ["2.1.0", undefined],
  ["2.0.0", 2],
  ["1.1.0", 1],
  ["1.0.0", 0],
  ["0.11.0", 0],
] as const) {
  const admin = level === undefined ? "every version" : `at most v${level}`;
  console.log(`kafka-python as for Kafka ${release}, admin APIs: ${admin}`);
  const ceiling: Ceiling = (key) => (ADMIN_ONLY.has(key) ? level : undefined);
  requests.add(
    await captureRun(ceiling, async (bootstrap) => {
      const { failed } = await runJson<{ failed: string[] }>(
        PYTHON,
        [clientScript("capture_kafka_python.py"), bootstrap, release],
        120_000,
      );
      for (const step of failed) console.log(`  failed: ${step}`);
    }),
  );
}
const file = writeFixture("kafka-python-requests.json", {
  client: "kafka-python 2.0.2",
  requests: requests.sorted(),
});
console.log(`kafka-python: ${requests.summary()}\nwritten to ${file}`);
