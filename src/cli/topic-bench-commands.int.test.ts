import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "./test-support/run-cli.js";

/**
 * `sluice bench produce | consume | tune` run as a user runs them, on tiny counts: the lines
 * of kafka-producer-perf-test and kafka-consumer-perf-test in their exact formats, and the JSON
 * alone on stdout with --json. Speed is not judged here.
 */
const dir = mkdtempSync(join(tmpdir(), "sluice-topic-bench-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** kafka-producer-perf-test's closing line (Kafka 4's ProducerPerformance.printTotal). */
const FINAL =
  /^(\d+) records sent, (\d+\.\d) records\/sec \((\d+\.\d\d) MB\/sec\), (\d+\.\d\d) ms avg latency, (\d+\.\d\d) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99\.9th\.$/;
/** Its line every 5 s (printWindow). */
const PROGRESS =
  /^(\d+) records sent, (\d+\.\d) records\/sec \((\d+\.\d\d) MB\/sec\), (\d+\.\d) ms avg latency, (\d+\.\d) ms max latency\.$/;
const MACHINE_SPEED = /^machine speed \(reference workload, lower is faster\): /;

describe("sluice bench produce", () => {
  it("prints kafka-producer-perf-test's line every 5 s and its closing line", async () => {
    // 5,500 records at 1,000 a second: one reporting window passes.
    const run = await runCli([
      "bench",
      "produce",
      "--num-records",
      "5500",
      "--record-size",
      "100",
      "--throughput",
      "1000",
    ]);
    expect(run.code).toBe(0);
    const progress = run.stderr.split("\n").filter((line) => PROGRESS.test(line));
    expect(progress).toHaveLength(1);
    const [, sent, rate, mb] = PROGRESS.exec(progress[0]!)!;
    // About five seconds' records at the offered rate, and the MB/s those records make.
    expect(Number(sent)).toBeGreaterThan(3000);
    expect(Number(sent)).toBeLessThan(5500);
    expect(Number(rate)).toBeGreaterThan(600);
    expect(Number(rate)).toBeLessThan(1100);
    expect(Number(mb)).toBeCloseTo((Number(rate) * 100) / 1024 / 1024, 2);
    const [line, speed] = run.stdout.trimEnd().split("\n");
    const final = FINAL.exec(line!);
    expect(final, line).not.toBeNull();
    expect(final![1]).toBe("5500");
    expect(Number(final![2])).toBeGreaterThan(600);
    expect(Number(final![2])).toBeLessThan(1100);
    // The percentiles in order, and the average and the maximum around them.
    const [p50, p95, p99, p999] = final!.slice(6, 10).map(Number);
    expect(p50! <= p95! && p95! <= p99! && p99! <= p999!).toBe(true);
    expect(Number(final![5])).toBeGreaterThanOrEqual(Number(final![4]));
    expect(speed).toMatch(MACHINE_SPEED);
  });

  it("produces to the topic --topic names (a name no topic may have is refused, not ignored)", async () => {
    const run = await runCli(["bench", "produce", "--topic", "bad/name", "--num-records", "10"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("SLUICE_VALIDATION");
    expect(run.stderr).toContain('"bad/name"');
    const consume = await runCli(["bench", "consume", "--topic", "..", "--messages", "10"]);
    expect(consume.code).toBe(2);
    expect(consume.stderr).toContain('got ".."');
  });

  it("--json prints the result alone on stdout, with the closing line and the options it ran with", async () => {
    const run = await runCli([
      "bench",
      "produce",
      "--num-records",
      "3000",
      "--record-size",
      "64",
      "--partitions",
      "3",
      "--fsync",
      "always",
      "--producer-props",
      "linger.ms=1",
      "batch.size=4096",
      "--json",
    ]);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as {
      benchmark: string;
      parameters: { numRecords: number; partitions: number; fsync: string; producerProps: object };
      records: number;
      recordsPerSec: number;
      mbPerSec: number;
      seconds: number;
      latency: { count: number; p50Ms: number; p99Ms: number; maxMs: number };
      line: string;
    };
    expect(result).toMatchObject({
      benchmark: "produce",
      parameters: {
        numRecords: 3000,
        partitions: 3,
        fsync: "always",
        producerProps: { "linger.ms": "1", "batch.size": "4096" },
      },
      records: 3000,
    });
    expect(result.latency.count).toBe(3000);
    expect(result.latency.p99Ms).toBeGreaterThanOrEqual(result.latency.p50Ms);
    expect(result.recordsPerSec).toBeCloseTo(3000 / result.seconds);
    expect(result.mbPerSec).toBeCloseTo((3000 * 64) / 1024 / 1024 / result.seconds);
    // The human lines went to stderr, the closing line the same as the JSON's.
    const final = FINAL.exec(result.line);
    expect(final, result.line).not.toBeNull();
    expect(Number(final![2])).toBeCloseTo(result.recordsPerSec, 0);
    expect(run.stderr.split("\n")).toContain(result.line);
  });
});

describe("sluice bench consume", () => {
  const HEADER =
    "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec";
  const ROW =
    /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d:\d{3}), (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d:\d{3}), (\d+\.\d{4}), (\d+\.\d{4}), (\d+), (\d+\.\d{4}), (\d+), (\d+), (\d+\.\d{4}|Infinity), (\d+\.\d{4}|Infinity)$/;

  it("prints kafka-consumer-perf-test's header and row, its times in the local zone", async () => {
    const before = Date.now();
    // A zone away from UTC by a fraction of an hour: a UTC time would not pass for it.
    const run = await runCli(
      ["bench", "consume", "--messages", "2000", "--record-size", "64", "--partitions", "2"],
      { TZ: "Asia/Kolkata" },
    );
    const after = Date.now();
    expect(run.code).toBe(0);
    const [header, row, speed, ...rest] = run.stdout.trimEnd().split("\n");
    expect(header).toBe(HEADER);
    const values = ROW.exec(row!);
    expect(values, row).not.toBeNull();
    const local = (text: string): number =>
      Date.parse(`${text.slice(0, 19).replace(" ", "T")}.${text.slice(20)}+05:30`);
    const [start, end] = [local(values![1]!), local(values![2]!)];
    expect(start).toBeGreaterThanOrEqual(before);
    expect(end).toBeGreaterThanOrEqual(start);
    expect(end).toBeLessThanOrEqual(after);
    // 2,000 records of 64 bytes: 0.1221 MB, every one of them read.
    expect(values![3]).toBe("0.1221");
    expect(values![5]).toBe("2000");
    expect(speed).toMatch(MACHINE_SPEED);
    expect(rest).toEqual([]);
  });

  it("takes --date-format as a SimpleDateFormat pattern, and refuses one it cannot print", async () => {
    const run = await runCli(
      [
        "bench",
        "consume",
        "--messages",
        "500",
        "--date-format",
        "dd/MM/yyyy HH:mm:ss.SSS XXX",
        "--json",
      ],
      { TZ: "Asia/Kolkata" },
    );
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as { benchmark: string; records: number; lines: string };
    expect(result).toMatchObject({ benchmark: "consume", records: 500 });
    const [header, row] = result.lines.split("\n");
    expect(header).toBe(HEADER);
    // 500 records of the default 100 bytes: 0.0477 MB.
    expect(row).toMatch(
      /^\d\d\/\d\d\/\d{4} \d\d:\d\d:\d\d\.\d{3} \+05:30, \d\d\/\d\d\/\d{4} \d\d:\d\d:\d\d\.\d{3} \+05:30, 0\.0477, /,
    );
    const refused = await runCli(["bench", "consume", "--date-format", "yyyy-MM-dd qq"]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toContain(
      "error: option '--date-format <pattern>' argument 'yyyy-MM-dd qq' is invalid. pattern letter 'q' is not supported",
    );
  });
});

describe("sluice bench tune", () => {
  it("--json and --chart: the JSON names the best configuration and its gain, the chart has a point per configuration", async () => {
    const chart = join(dir, "tune.svg");
    const run = await runCli([
      "bench",
      "tune",
      "--num-records",
      "500",
      "--record-size",
      "50",
      "--batch-sizes",
      "16384",
      "--lingers",
      "0,5",
      "--compressions",
      "none,lz4",
      "--partitions",
      "1",
      "--fsync",
      "never",
      "--chart",
      chart,
      "--json",
    ]);
    expect(run.code).toBe(0);
    interface Row {
      config: { batchSize: number; lingerMs: number; compression: string; partitions: number };
      recordsPerSec: number;
      p99Ms: number;
    }
    const result = JSON.parse(run.stdout) as {
      benchmark: string;
      baseline: Row;
      rows: Row[];
      best: Row;
      gain: number;
    };
    expect(result.benchmark).toBe("tune");
    expect(result.rows.map((r) => [r.config.compression, r.config.lingerMs])).toEqual([
      ["none", 0],
      ["none", 5],
      ["lz4", 0],
      ["lz4", 5],
    ]);
    expect(result.baseline.config).toEqual({
      batchSize: 0,
      lingerMs: 0,
      compression: "none",
      partitions: 1,
    });
    const fastest = [result.baseline, ...result.rows].reduce((a, b) =>
      b.recordsPerSec > a.recordsPerSec ? b : a,
    );
    expect(result.best).toEqual(fastest);
    expect(result.gain).toBeCloseTo(result.best.recordsPerSec / result.baseline.recordsPerSec, 10);
    // A progress line before and after each of the five runs, then the table naming the best.
    const stderr = run.stderr.split("\n");
    expect(stderr.filter((l) => /^\[\d\/5\] /.test(l))).toHaveLength(10);
    const c = result.best.config;
    expect(run.stderr).toContain(
      `best: batch.size=${c.batchSize} linger.ms=${c.lingerMs} compression.type=${c.compression} partitions=${c.partitions}: `,
    );
    expect(run.stderr).toContain(`${result.gain.toFixed(2)}x the untuned baseline`);
    expect(stderr).toContain(`chart: ${chart}`);
    const svg = readFileSync(chart, "utf8");
    expect(svg.startsWith("<svg")).toBe(true);
    // One point per configuration, the baseline's included.
    expect(svg.match(/<circle /g)).toHaveLength(5);
    for (const name of ["none, 1p", "lz4, 1p", "baseline"])
      expect(svg).toContain(`>${name}</text>`);
  });
});
