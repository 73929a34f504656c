// Records the requests librdkafka sends, through confluent-kafka (Debian's
// python3-confluent-kafka; the first of each API and version), as fixtures for the codec test:
// one run as served, then runs advertising at most v12, v11, … v0 of every API, so that
// librdkafka negotiates each lower version it knows in turn (test-support/capture-harness.ts):
//   npx tsx src/server/kafka/test-support/capture-librdkafka.ts
// Debian's librdkafka is 2.0.2. A later librdkafka knows later versions; its library, built
// elsewhere (node-rdkafka's `npm install` builds one from source, in
// node_modules/node-rdkafka/deps/librdkafka/src/), runs the same session when its directory is
// given: the binding loads it in place of Debian's (the library's ABI is stable):
//   LIBRDKAFKA_DIR=<dir holding librdkafka.so.1> npx tsx src/server/kafka/test-support/capture-librdkafka.ts
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

const libraryDir = process.env["LIBRDKAFKA_DIR"];
const env =
  libraryDir === undefined ? process.env : { ...process.env, LD_LIBRARY_PATH: libraryDir };
const requests = new CapturedRequests();
const versions = new Set<string>();
for (const level of [undefined, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]) {
  console.log(`advertising ${level === undefined ? "every version" : `at most v${level}`}`);
  const ceiling = level === undefined ? UNCLAMPED : atMost(level, FLOORS);
  requests.add(
    await captureRun(ceiling, async (bootstrap) => {
      const session = await runJson<{ failed: string[]; librdkafka: string; binding: string }>(
        PYTHON,
        [clientScript("capture_confluent_kafka.py"), bootstrap],
        180_000,
        env,
      );
      versions.add(`confluent-kafka ${session.binding} (librdkafka ${session.librdkafka})`);
      for (const step of session.failed) console.log(`  failed: ${step}`);
    }),
  );
}
const [client] = versions;
if (versions.size !== 1 || client === undefined)
  throw new Error(`clients: ${[...versions].join(", ")}`);
const file = writeFixture(
  libraryDir === undefined ? "librdkafka-requests.json" : "librdkafka-later-requests.json",
  { client, requests: requests.sorted() },
);
console.log(`${client}: ${requests.summary()}\nwritten to ${file}`);
