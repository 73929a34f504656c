import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, describe, expect, it } from "vitest";
import {
  LineProcess,
  PYTHON,
  SluiceKafkaProcess,
  clientScript,
  pythonHas,
  runJson,
} from "./test-support/client-processes.js";
import { storedCodecs } from "./test-support/stored-batches.js";

// Kafka clients written elsewhere, as Debian packages them (.ci/run installs them), against
// `sluice start` run as a user runs it. The scripts only drive the clients and report
// what they saw; the assertions are here.
const inCi = process.env.CI === "true";
const root = mkdtempSync(join(tmpdir(), "sluice-kafka-python-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const CODECS = ["none", "gzip", "snappy", "lz4", "zstd"];
const range = (prefix: string, n: number): string[] =>
  Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

interface Cluster {
  apiVersion?: number[];
  controllerId: number;
  brokers: Array<{ nodeId: number; host: string; port: number }>;
}
interface MemberLine {
  assigned?: number[];
  records?: string[];
  left?: boolean;
  committed?: boolean;
}
interface Lag {
  state: string;
  partitions: Record<string, { committed: number; end: number; lag: number }>;
}

const clients = [
  {
    name: "kafka-python (python3-kafka)",
    script: clientScript("kafka_python_client.py"),
    modules: "kafka, lz4, snappy, zstandard",
  },
  {
    name: "confluent-kafka (python3-confluent-kafka, librdkafka)",
    script: clientScript("confluent_kafka_client.py"),
    modules: "confluent_kafka",
  },
];

/** A group member in its own process (each member must keep polling to take part in a rebalance). */
function member(script: string, bootstrap: string, topic: string, group: string) {
  const process = new LineProcess(PYTHON, [script, bootstrap, "member", topic, group]);
  const lines = () => process.json<MemberLine>();
  return {
    process,
    assigned: () =>
      lines()
        .filter((l) => l.assigned !== undefined)
        .at(-1)?.assigned ?? [],
    records: () => lines().flatMap((l) => l.records ?? []),
    left: () => lines().some((l) => l.left === true),
    committed: () => lines().filter((l) => l.committed === true).length,
  };
}

describe.each(clients)("$name against sluice start", ({ name, script, modules }) => {
  const available = pythonHas(modules);

  it.runIf(inCi && !available)(`${name} is installed (CI installs it)`, () => {
    expect.fail(`${PYTHON} cannot import ${modules}: .ci/run installs the Debian packages`);
  });

  it.skipIf(!available)(
    "metadata, every codec stored as sent, reading from the beginning, a group of two that rebalances, commits and lag across a restart",
    async () => {
      const dir = join(root, name.split(" ")[0]!);
      let server = await SluiceKafkaProcess.serve(dir);
      const step = <T>(...args: string[]) =>
        runJson<T>(PYTHON, [script, server.bootstrap, ...args]);
      const members: Array<ReturnType<typeof member>> = [];
      try {
        // A reachable advertised address (never 0.0.0.0) and a real controller id.
        const cluster = await step<Cluster>("cluster");
        expect(cluster.brokers).toEqual([{ nodeId: 0, host: "127.0.0.1", port: server.port }]);
        expect(cluster.controllerId).toBe(0);
        // kafka-python picks a release from the ApiVersions table and uses its versions: a
        // release with zstd (2.1+) and the group APIs it knows.
        if (cluster.apiVersion !== undefined)
          expect(cluster.apiVersion.slice(0, 2)).toSatisfy(
            ([major, minor]: number[]) => major! > 2 || (major === 2 && minor! >= 1),
          );

        await step("create", "codecs", "5");
        await step("produce-codecs", "codecs", "10");
        const consumed = await step<{ records: Record<string, string[]> }>(
          "consume-all",
          "codecs",
          "50",
        );
        expect(consumed.records).toEqual(
          Object.fromEntries(CODECS.map((codec, p) => [String(p), range(codec, 10)])),
        );

        await step("create", "work", "4");
        await step("produce", "work", "4", "40", "a");
        const first = member(script, server.bootstrap, "work", "g");
        members.push(first);
        await first.process.waitFor(() => first.assigned().length === 4, "first member assigned");
        await first.process.waitFor(
          () => new Set(first.records()).size === 40,
          "the first member reading the 40 records",
        );
        first.process.send("commit");
        await first.process.waitFor(() => first.committed() === 1, "first member committed");
        // A second member joins: the partitions are shared, and it reads on from the commits.
        const second = member(script, server.bootstrap, "work", "g");
        members.push(second);
        await second.process.waitFor(
          () =>
            first.assigned().length === 2 &&
            second.assigned().length === 2 &&
            new Set([...first.assigned(), ...second.assigned()]).size === 4,
          "two members sharing the four partitions",
        );
        second.process.send("leave");
        await second.process.waitFor(second.left, "second member left");
        await first.process.waitFor(
          () => first.assigned().length === 4,
          "the remaining member takes every partition",
        );
        first.process.send("leave");
        await first.process.waitFor(first.left, "first member left");
        expect(first.records().sort()).toEqual(range("a", 40).sort());
        expect(second.records()).toEqual([]);

        await step("produce", "work", "4", "8", "b");
        expect(await server.stop()).toBe(0);

        // Every batch kept the codec the client compressed it with.
        expect(await storedCodecs(dir, "codecs")).toEqual([[0], [1], [2], [3], [4]]);

        // The group's commits survive the restart: lag is what was produced since.
        server = await SluiceKafkaProcess.serve(dir);
        const lag = await step<Lag>("lag", "work", "g");
        expect(lag.state).toBe("Empty");
        expect(lag.partitions).toEqual(
          Object.fromEntries(
            [0, 1, 2, 3].map((p) => [String(p), { committed: 10, end: 12, lag: 2 }]),
          ),
        );
        const resumed = member(script, server.bootstrap, "work", "g");
        members.push(resumed);
        await resumed.process.waitFor(
          () => resumed.records().length >= 8,
          "a member reading on from the commits",
        );
        resumed.process.send("leave");
        await resumed.process.waitFor(resumed.left, "resumed member left");
        expect(resumed.records().sort()).toEqual(range("b", 8).sort());
      } finally {
        await Promise.all(members.map((m) => m.process.stop()));
        await server.stop();
      }
    },
    240_000,
  );
});

describe("the course's producer-tuning exercise (Lab 2, Part B)", () => {
  const available = pythonHas("kafka, lz4, snappy");

  it.skipIf(!available)(
    "runs as written with kafka-python: 48 configurations of batch size, linger and codec",
    async () => {
      const dir = join(root, "course");
      const server = await SluiceKafkaProcess.serve(dir);
      const records = 200;
      try {
        const result = await runJson<{ best: Record<string, unknown>; throughput: number }>(
          PYTHON,
          [clientScript("course_producer_tuning.py"), server.bootstrap, String(records)],
          180_000,
        );
        expect(Object.keys(result.best).sort()).toEqual([
          "batch.size",
          "compression.type",
          "linger.ms",
        ]);
        expect(result.throughput).toBeGreaterThan(0);
        const admin = new Kafka({
          brokers: [server.bootstrap],
          logLevel: logLevel.NOTHING,
        }).admin();
        await admin.connect();
        try {
          const offsets = await admin.fetchTopicOffsets("performance-test");
          expect(offsets.reduce((sum, p) => sum + Number(p.high), 0)).toBe(48 * records);
        } finally {
          await admin.disconnect();
        }
      } finally {
        await server.stop();
      }
      const codecs = new Set((await storedCodecs(dir, "performance-test")).flat());
      expect([...codecs].sort()).toEqual([0, 1, 2, 3]);
    },
    240_000,
  );
});

describe("cooperative-sticky with confluent-kafka (librdkafka)", () => {
  const available = pythonHas("confluent_kafka");

  it.skipIf(!available)(
    "a second member gets the partitions the first revoked (though the first rejoins at once), from the offsets committed at revocation",
    async () => {
      const server = await SluiceKafkaProcess.serve(join(root, "cooperative"));
      const step = <T>(...args: string[]) =>
        runJson<T>(PYTHON, [clientScript("confluent_kafka_client.py"), server.bootstrap, ...args]);
      try {
        await step("create", "shared", "4");
        await step("produce", "shared", "4", "40", "c");
        // The first member revokes two partitions and rejoins within milliseconds to hand them
        // over; the second's JoinGroup must be answered for the round that completed meanwhile.
        const result = await step<{ first: number[]; second: number[]; readAgain: number }>(
          "cooperative",
          "shared",
          "coop",
          "40",
        );
        expect(result.second).toHaveLength(2);
        expect([...result.first, ...result.second].sort()).toEqual([0, 1, 2, 3]);
        // The first member commits the partitions it revoked under the new generation (Kafka
        // takes it: it checks member and generation, not the assignment), so none is read twice.
        expect(result.readAgain).toBe(0);
      } finally {
        await server.stop();
      }
    },
    60_000,
  );
});
