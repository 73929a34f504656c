// Records the requests librdkafka sends, through confluent-kafka (Debian's
// python3-confluent-kafka; the first of each API and version), as fixtures for the codec test:
// one run as served, then runs advertising at most v7, v6, … v0 of every API, so that
// librdkafka negotiates each lower version it knows in turn (test-support/capture-harness.ts):
//   npx tsx src/server/kafka/test-support/capture-librdkafka.ts
import {
  CapturedRequests,
  UNCLAMPED,
  atMost,
  captureRun,
  writeFixture,
} from "./capture-harness.js";
import { PYTHON, clientScript, runJson } from "./client-processes.js";

/**
 * Below v1 of these librdkafka cannot go on: its admin finds the controller in Metadata v1 on,
 * OffsetCommit v0 names no member (the listener refuses it from a group member, and the commit
 * fails), and its transactions find their coordinator with FindCoordinator v1.
 */
const FLOORS = new Map([
  [3, 1],
  [8, 1],
  [10, 1],
]);

const requests = new CapturedRequests();
for (const level of [undefined, 7, 6, 5, 4, 3, 2, 1, 0]) {
  console.log(`advertising ${level === undefined ? "every version" : `at most v${level}`}`);
  const ceiling = level === undefined ? UNCLAMPED : atMost(level, FLOORS);
  requests.add(
    await captureRun(ceiling, async (bootstrap) => {
      const { failed } = await runJson<{ failed: string[] }>(
        PYTHON,
        [clientScript("capture_confluent_kafka.py"), bootstrap],
        120_000,
      );
      for (const step of failed) console.log(`  failed: ${step}`);
    }),
  );
}
const file = writeFixture("librdkafka-requests.json", {
  client: "confluent-kafka 1.7.0 (librdkafka 2.0.2)",
  requests: requests.sorted(),
});
console.log(`librdkafka: ${requests.summary()}\nwritten to ${file}`);
