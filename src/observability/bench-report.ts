import { writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import type { LatencySummary } from "./latency-histogram.js";

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryBytes: number;
  readonly node: string;
  readonly platform: string;
}

/** What a benchmark result records about where it ran. */
export function machineInfo(): MachineInfo {
  return {
    cpuModel: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memoryBytes: totalmem(),
    node: process.version,
    platform: process.platform,
  };
}

const MB = 1024 * 1024;

/**
 * A double as Java's `%.<digits>f` prints it (Kafka's tools print with printf): Java rounds the
 * shortest decimal that names the double half-up, where toFixed rounds its exact binary value
 * (Java prints 1.005 as 1.01 at two decimals, toFixed as 1.00).
 */
export function javaFixed(value: number, digits: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "Infinity" : "-Infinity";
  const sign = value < 0 || Object.is(value, -0) ? "-" : "";
  // The shortest digits that read back as the value, and their exponent: 1.005 is 1005e-3.
  const [mantissa = "0", exponent = "0"] = Math.abs(value).toExponential().split("e");
  const decimals = mantissa.replace(".", "");
  const shortest = BigInt(decimals);
  // value × 10^digits = shortest × 10^shift
  const shift = Number(exponent) - (decimals.length - 1) + digits;
  let scaled: bigint;
  if (shift >= 0) scaled = shortest * 10n ** BigInt(shift);
  else {
    const unit = 10n ** BigInt(-shift);
    scaled = shortest / unit + (2n * (shortest % unit) >= unit ? 1n : 0n);
  }
  const text = scaled.toString().padStart(digits + 1, "0");
  return digits === 0 ? sign + text : `${sign}${text.slice(0, -digits)}.${text.slice(-digits)}`;
}

/**
 * The closing line of kafka-producer-perf-test (Kafka 4's ProducerPerformance, which users of
 * Kafka read at a glance): `%d records sent, %.1f records/sec (%.2f MB/sec), %.2f ms avg
 * latency, %.2f ms max latency, %d ms 50th, %d ms 95th, %d ms 99th, %d ms 99.9th.`
 * (Kafka 3.9 and earlier printed the records/sec with `%f`.)
 */
export function producerPerfLine(
  records: number,
  seconds: number,
  bytes: number,
  latency: LatencySummary,
): string {
  const ms = (v: number): string => Math.round(v).toString();
  return (
    `${records} records sent, ${javaFixed(records / seconds, 1)} records/sec (${javaFixed(bytes / MB / seconds, 2)} MB/sec), ` +
    `${javaFixed(latency.meanMs, 2)} ms avg latency, ${javaFixed(latency.maxMs, 2)} ms max latency, ${ms(latency.p50Ms)} ms 50th, ` +
    `${ms(latency.p95Ms)} ms 95th, ${ms(latency.p99Ms)} ms 99th, ${ms(latency.p999Ms)} ms 99.9th.`
  );
}

/**
 * kafka-producer-perf-test's line for one reporting window (every 5 s): `%d records sent, %.1f
 * records/sec (%.2f MB/sec), %.1f ms avg latency, %.1f ms max latency.`
 */
export function producerProgressLine(
  records: number,
  seconds: number,
  bytes: number,
  meanMs: number,
  maxMs: number,
): string {
  return (
    `${records} records sent, ${javaFixed(records / seconds, 1)} records/sec (${javaFixed(bytes / MB / seconds, 2)} MB/sec), ` +
    `${javaFixed(meanMs, 1)} ms avg latency, ${javaFixed(maxMs, 1)} ms max latency.`
  );
}

const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];
const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/** A `java.text.SimpleDateFormat` pattern letter this formatter prints, and how. */
const DATE_FIELDS: Record<string, (d: Date, count: number) => string> = {
  y: (d, n) =>
    n === 2
      ? String(d.getFullYear() % 100).padStart(2, "0")
      : String(d.getFullYear()).padStart(n, "0"),
  M: (d, n) =>
    n >= 4
      ? MONTHS[d.getMonth()]!
      : n === 3
        ? MONTHS[d.getMonth()]!.slice(0, 3)
        : String(d.getMonth() + 1).padStart(n, "0"),
  d: (d, n) => String(d.getDate()).padStart(n, "0"),
  D: (d, n) =>
    String(
      Math.round(
        (Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()) - Date.UTC(d.getFullYear(), 0, 1)) /
          86_400_000,
      ) + 1,
    ).padStart(n, "0"),
  E: (d, n) => (n >= 4 ? DAYS[d.getDay()]! : DAYS[d.getDay()]!.slice(0, 3)),
  u: (d, n) => String(d.getDay() === 0 ? 7 : d.getDay()).padStart(n, "0"),
  a: (d) => (d.getHours() < 12 ? "AM" : "PM"),
  H: (d, n) => String(d.getHours()).padStart(n, "0"),
  k: (d, n) => String(d.getHours() === 0 ? 24 : d.getHours()).padStart(n, "0"),
  K: (d, n) => String(d.getHours() % 12).padStart(n, "0"),
  h: (d, n) => String(d.getHours() % 12 === 0 ? 12 : d.getHours() % 12).padStart(n, "0"),
  m: (d, n) => String(d.getMinutes()).padStart(n, "0"),
  s: (d, n) => String(d.getSeconds()).padStart(n, "0"),
  // SimpleDateFormat's S is the millisecond as a number, not a fraction: S prints 7, SSS 007.
  S: (d, n) => String(d.getMilliseconds()).padStart(n, "0"),
  Z: (d) => zoneOffset(d, false),
  // ISO 8601: Z at UTC, else X +08, XX +0800, XXX +08:00.
  X: (d, n) =>
    d.getTimezoneOffset() === 0
      ? "Z"
      : n === 1
        ? zoneOffset(d, false).slice(0, 3)
        : zoneOffset(d, n === 3),
};

/** The local zone's offset at `d`: -0800, or -08:00 with `colon`. */
function zoneOffset(d: Date, colon: boolean): string {
  const offset = -d.getTimezoneOffset();
  const hh = String(Math.floor(Math.abs(offset) / 60)).padStart(2, "0");
  const mm = String(Math.abs(offset) % 60).padStart(2, "0");
  return `${offset < 0 ? "-" : "+"}${hh}${colon ? ":" : ""}${mm}`;
}

/** kafka-consumer-perf-test's default --date-format. */
export const KAFKA_DATE_FORMAT = "yyyy-MM-dd HH:mm:ss:SSS";

/**
 * A formatter of times in the local zone by a `java.text.SimpleDateFormat` pattern, as
 * kafka-consumer-perf-test's --date-format takes one: the letters y M d D E u a H k K h m s S Z
 * X, text in single quotes, '' for a quote. Throws on any other letter or an unclosed quote.
 */
export function javaDateFormat(pattern: string): (ms: number) => string {
  const parts: ((d: Date) => string)[] = [];
  for (let i = 0; i < pattern.length;) {
    const c = pattern[i]!;
    if (c === "'") {
      if (pattern[i + 1] === "'") {
        parts.push(() => "'");
        i += 2;
        continue;
      }
      let text = "";
      let j = i + 1;
      for (;;) {
        if (j >= pattern.length) throw new Error(`unterminated quote in ${pattern}`);
        if (pattern[j] === "'") {
          if (pattern[j + 1] !== "'") break;
          text += "'";
          j += 2;
        } else text += pattern[j++];
      }
      parts.push(() => text);
      i = j + 1;
    } else if (/[a-zA-Z]/.test(c)) {
      let count = 1;
      while (pattern[i + count] === c) count++;
      const field = DATE_FIELDS[c];
      if (field === undefined)
        throw new Error(
          `pattern letter '${c}' is not supported (expected ${Object.keys(DATE_FIELDS).join(" ")})`,
        );
      if (c === "X" && count > 3) throw new Error(`invalid ISO 8601 format: length=${count}`);
      parts.push((d) => field(d, count));
      i += count;
    } else {
      parts.push(() => c);
      i++;
    }
  }
  return (ms) => {
    const d = new Date(ms);
    return parts.map((part) => part(d)).join("");
  };
}

export interface ConsumerFigures {
  readonly startMs: number;
  readonly endMs: number;
  readonly bytes: number;
  readonly records: number;
  readonly rebalanceMs: number;
  readonly fetchMs: number;
}

/**
 * The two lines (header, values) of kafka-consumer-perf-test, its times in the local zone by
 * `dateFormat` (its --date-format; Kafka's default unless given), the values as Kafka's
 * ConsumerPerformance prints them: `%s, %s, %.4f, %.4f, %d, %.4f, %d, %d, %.4f, %.4f`.
 */
export function consumerPerfLines(
  f: ConsumerFigures,
  dateFormat: (ms: number) => string = javaDateFormat(KAFKA_DATE_FORMAT),
): string {
  const seconds = (f.endMs - f.startMs) / 1000;
  const fetchSeconds = f.fetchMs / 1000;
  const values = [
    dateFormat(f.startMs),
    dateFormat(f.endMs),
    javaFixed(f.bytes / MB, 4),
    javaFixed(f.bytes / MB / seconds, 4),
    String(f.records),
    javaFixed(f.records / seconds, 4),
    String(Math.round(f.rebalanceMs)),
    String(Math.round(f.fetchMs)),
    javaFixed(f.bytes / MB / fetchSeconds, 4),
    javaFixed(f.records / fetchSeconds, 4),
  ];
  return (
    "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec\n" +
    values.join(", ")
  );
}

/** Tracks the peak resident set size while a benchmark runs (sampled every 100 ms). */
export class PeakRss {
  private peak = process.memoryUsage.rss();
  // A background sampler: a benchmark that fails must not be kept alive by it.
  private readonly timer = setInterval(() => this.sample(), 100).unref();

  sample(): number {
    const rss = process.memoryUsage.rss();
    if (rss > this.peak) this.peak = rss;
    return rss;
  }

  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peak;
  }
}

/** Prints progress at most once a second (to stderr, so stdout stays machine-readable). */
export class Progress {
  private last = performance.now();
  private readonly started = performance.now();

  constructor(
    private readonly enabled: boolean,
    private readonly label: string,
  ) {}

  tick(done: number, total: number): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (now - this.last < 1000) return;
    this.last = now;
    const rate = done / ((now - this.started) / 1000);
    process.stderr.write(
      `${this.label}: ${done}/${total} (${Math.round((100 * done) / total)}%), ${Math.round(rate)}/s\n`,
    );
  }
}

/** Writes a result as JSON to a file (when given) and returns the JSON text. */
export function emitJson(result: object, outFile?: string): string {
  const text = JSON.stringify(result, null, 2);
  if (outFile !== undefined) writeFileSync(outFile, text + "\n");
  return text;
}
