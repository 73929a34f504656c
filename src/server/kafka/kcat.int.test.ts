import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, describe, expect, it } from "vitest";
import {
  KCAT,
  LineProcess,
  SluiceKafkaProcess,
  hasKcat,
  run,
} from "./test-support/client-processes.js";
import { storedCodecs } from "./test-support/stored-batches.js";

// kcat (librdkafka's command-line client, Debian's package; .ci/run installs it) against
// `sluice start`, as a user would run both.
const inCi = process.env.CI === "true";
const root = mkdtempSync(join(tmpdir(), "sluice-kcat-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const CODECS = ["none", "gzip", "snappy", "lz4", "zstd"] as const;
// Long enough to compress: librdkafka sends a batch uncompressed when that is not smaller.
const PADDING = " sluice".repeat(40);
const GROUP_SETTINGS = [
  "-X",
  "auto.offset.reset=earliest",
  "-X",
  "auto.commit.interval.ms=100",
  "-X",
  "session.timeout.ms=6000",
  "-X",
  "heartbeat.interval.ms=300",
];

interface KcatMetadata {
  controllerid: number;
  brokers: Array<{ id: number; name: string }>;
}

/** The payloads of `kcat -J` output lines. */
const payloads = (lines: readonly string[]): string[] =>
  lines
    .filter((l) => l.startsWith("{"))
    .map((l) => (JSON.parse(l) as { payload: string }).payload.split(" ")[0]!);

/** A `kcat -G` member; its rebalances are read from what it prints on stderr. */
function member(bootstrap: string, group: string, topic: string) {
  const process = new LineProcess(KCAT, [
    "-b",
    bootstrap,
    "-G",
    group,
    topic,
    "-J",
    "-u",
    ...GROUP_SETTINGS,
  ]);
  return {
    process,
    assigned: (): number[] => {
      const line = process.errorLines.filter((l) => /rebalanced .*: assigned:/.test(l)).at(-1);
      return [...(line ?? "").matchAll(/\[(\d+)\]/g)].map((m) => Number(m[1])).sort();
    },
    records: () => payloads(process.lines),
  };
}

const range = (prefix: string, n: number): string[] =>
  Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe("kcat against sluice start", () => {
  it.runIf(inCi && !hasKcat)("kcat is installed (CI installs it)", () => {
    expect.fail(`${KCAT} is missing: .ci/run installs Debian's kcat`);
  });

  it.skipIf(!hasKcat)(
    "metadata, every codec stored as sent, reading from the beginning, a group of two that rebalances, commits and lag across a restart",
    async () => {
      const dir = join(root, "data");
      let server = await SluiceKafkaProcess.serve(dir);
      const kcat = (args: string[], input?: string) =>
        run(KCAT, ["-b", server.bootstrap, ...args], input);
      const members: Array<ReturnType<typeof member>> = [];
      try {
        const metadata = JSON.parse((await kcat(["-L", "-J"])).stdout) as KcatMetadata;
        expect(metadata.brokers).toEqual([{ id: 0, name: `127.0.0.1:${server.port}` }]);
        expect(metadata.controllerid).toBe(0);

        // Each codec to its own topic (created on first use), read back from the beginning.
        for (const codec of CODECS) {
          const lines = range(codec, 10).map((v) => v + PADDING);
          await kcat(
            ["-P", "-t", `codec-${codec}`, "-z", codec, "-X", "acks=all"],
            lines.join("\n"),
          );
          const read = await kcat(["-C", "-t", `codec-${codec}`, "-o", "beginning", "-e", "-J"]);
          expect(payloads(read.stdout.split("\n"))).toEqual(range(codec, 10));
        }

        const admin = new Kafka({
          brokers: [server.bootstrap],
          logLevel: logLevel.NOTHING,
        }).admin();
        await admin.connect();
        await admin.createTopics({ topics: [{ topic: "work", numPartitions: 4 }] });
        await admin.disconnect();
        for (let p = 0; p < 4; p++)
          await kcat(
            ["-P", "-t", "work", "-p", String(p)],
            range("a", 40)
              .filter((_, i) => i % 4 === p)
              .join("\n"),
          );

        const first = member(server.bootstrap, "g", "work");
        members.push(first);
        await first.process.waitFor(
          () => first.assigned().length === 4 && first.records().length === 40,
          "the first member reading every partition",
        );
        const second = member(server.bootstrap, "g", "work");
        members.push(second);
        await second.process.waitFor(
          () =>
            first.assigned().length === 2 &&
            second.assigned().length === 2 &&
            new Set([...first.assigned(), ...second.assigned()]).size === 4,
          "two members sharing the four partitions",
        );
        expect(await second.process.signal("SIGTERM")).toBe(0);
        await first.process.waitFor(
          () => first.assigned().length === 4,
          "the remaining member takes every partition",
        );
        expect(await first.process.signal("SIGTERM")).toBe(0);
        expect(first.records().sort()).toEqual(range("a", 40).sort());
        expect(second.records()).toEqual([]);

        for (let p = 0; p < 4; p++)
          await kcat(["-P", "-t", "work", "-p", String(p)], `b-${p}\nb-${p + 4}`);
        expect(await server.stop()).toBe(0);

        const stored: number[][][] = [];
        for (const c of CODECS) stored.push(await storedCodecs(dir, `codec-${c}`));
        expect(stored).toEqual([[[0]], [[1]], [[2]], [[3]], [[4]]]);

        // After a restart: the commits are there (lag is what was produced since), and a member
        // reads on from them.
        server = await SluiceKafkaProcess.serve(dir);
        const restarted = new Kafka({
          brokers: [server.bootstrap],
          logLevel: logLevel.NOTHING,
        }).admin();
        await restarted.connect();
        try {
          const [committed] = await restarted.fetchOffsets({ groupId: "g", topics: ["work"] });
          const ends = await restarted.fetchTopicOffsets("work");
          const lag = committed!.partitions
            .map((p) => ({
              partition: p.partition,
              committed: Number(p.offset),
              lag: Number(ends.find((e) => e.partition === p.partition)!.high) - Number(p.offset),
            }))
            .sort((a, b) => a.partition - b.partition);
          expect(lag).toEqual(
            [0, 1, 2, 3].map((partition) => ({ partition, committed: 10, lag: 2 })),
          );
        } finally {
          await restarted.disconnect();
        }
        const resumed = await kcat(["-G", "g", "work", "-e", "-J", ...GROUP_SETTINGS]);
        expect(payloads(resumed.stdout.split("\n")).sort()).toEqual(range("b", 8).sort());
      } finally {
        await Promise.all(members.map((m) => m.process.stop()));
        await server.stop();
      }
    },
    120_000,
  );
});
