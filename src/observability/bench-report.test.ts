import { describe, expect, it } from "vitest";
import {
  KAFKA_DATE_FORMAT,
  consumerPerfLines,
  javaDateFormat,
  javaFixed,
  producerPerfLine,
  producerProgressLine,
} from "./bench-report.js";
import type { LatencySummary } from "./latency-histogram.js";

// Users of Kafka read these lines at a glance and parse them with their own scripts: each is
// held to the text Kafka's tools print for the same figures. The expected values were printed
// by Java 17 (`String.format`, `SimpleDateFormat`) from the same inputs.
describe("Kafka's perf tools' lines", () => {
  it("rounds as Java's %f does: half up from the shortest decimal of the double, not its binary value", () => {
    expect(javaFixed(1.005, 2)).toBe("1.01"); // toFixed: 1.00
    expect(javaFixed(1234.05, 1)).toBe("1234.1"); // toFixed: 1234.0
    expect(javaFixed(0.125, 2)).toBe("0.13");
    expect(javaFixed(2.5, 0)).toBe("3");
    expect(javaFixed(100_000 / 0.7, 6)).toBe("142857.142857");
    expect(javaFixed(5e-7, 6)).toBe("0.000001");
    expect(javaFixed(1e-7, 6)).toBe("0.000000");
    expect(javaFixed(4160.0249, 6)).toBe("4160.024900");
    expect(javaFixed(-0, 1)).toBe("-0.0");
    expect(javaFixed(NaN, 4)).toBe("NaN");
    expect(javaFixed(Infinity, 4)).toBe("Infinity");
  });

  it("prints kafka-producer-perf-test's closing line and its 5 s progress line", () => {
    const latency: LatencySummary = {
      count: 1000,
      minMs: 0.2,
      meanMs: 1.005,
      p50Ms: 0.6,
      p95Ms: 2.4,
      p99Ms: 3.5,
      p999Ms: 7.49,
      maxMs: 12.5,
    };
    expect(producerPerfLine(1000, 0.7, 100_000, latency)).toBe(
      "1000 records sent, 1428.6 records/sec (0.14 MB/sec), 1.01 ms avg latency, 12.50 ms max latency, " +
        "1 ms 50th, 2 ms 95th, 4 ms 99th, 7 ms 99.9th.",
    );
    expect(producerProgressLine(250_000, 5.004, 25_000_000, 0.25, 12)).toBe(
      "250000 records sent, 49960.0 records/sec (4.76 MB/sec), 0.3 ms avg latency, 12.0 ms max latency.",
    );
  });

  it("prints kafka-consumer-perf-test's header and row, times in the local zone by its default --date-format", () => {
    // Built from local fields, so the expected text holds in every time zone.
    const startMs = new Date(2024, 0, 5, 7, 8, 9, 12).getTime();
    const figures = {
      startMs,
      endMs: startMs + 2500,
      bytes: 3 * 1024 * 1024,
      records: 30_000,
      rebalanceMs: 12,
      fetchMs: 2400.4,
    };
    expect(consumerPerfLines(figures).split("\n")).toEqual([
      "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec",
      "2024-01-05 07:08:09:012, 2024-01-05 07:08:11:512, 3.0000, 1.2000, 30000, 12000.0000, 12, 2400, 1.2498, 12497.9170",
    ]);
    const iso = javaDateFormat("yyyy-MM-dd'T'HH:mm:ss.SSS");
    expect(consumerPerfLines(figures, iso).split("\n")[1]).toMatch(
      /^2024-01-05T07:08:09\.012, 2024-01-05T07:08:11\.512, /,
    );
  });

  it("prints local time, not UTC: in India's zone the epoch is 05:30, its offset +0530", () => {
    // Node reads TZ again when it is set; this file runs in a process of its own.
    const inZone = (zone: string, check: () => void): void => {
      const was = process.env.TZ;
      process.env.TZ = zone;
      try {
        check();
      } finally {
        if (was === undefined) delete process.env.TZ;
        else process.env.TZ = was;
      }
    };
    inZone("Asia/Kolkata", () => {
      expect(javaDateFormat(KAFKA_DATE_FORMAT)(0)).toBe("1970-01-01 05:30:00:000");
      expect(javaDateFormat("Z X XX XXX")(0)).toBe("+0530 +05 +0530 +05:30");
      expect(javaDateFormat("hh:mm a")(Date.UTC(2024, 0, 1, 18, 45))).toBe("12:15 AM");
    });
    inZone("UTC", () => expect(javaDateFormat("Z X XXX")(0)).toBe("+0000 Z Z"));
  });

  it("formats times by SimpleDateFormat's common letters, quotes included, and refuses the rest", () => {
    const at = new Date(2023, 10, 15, 3, 43, 20, 7).getTime();
    expect(KAFKA_DATE_FORMAT).toBe("yyyy-MM-dd HH:mm:ss:SSS");
    expect(javaDateFormat(KAFKA_DATE_FORMAT)(at)).toBe("2023-11-15 03:43:20:007");
    expect(javaDateFormat("yy/M/d h:m:s a S")(at)).toBe("23/11/15 3:43:20 AM 7");
    expect(javaDateFormat("EEEE MMMM dd kk KK D u")(at)).toBe("Wednesday November 15 03 03 319 3");
    expect(javaDateFormat("EEE, d MMM yyyy")(at)).toBe("Wed, 15 Nov 2023");
    expect(javaDateFormat("''yyyy'' 'o''clock' SS")(at)).toBe("'2023' o'clock 07");
    expect(javaDateFormat("yyyyy SSSS")(at)).toBe("02023 0007");
    expect(javaDateFormat("h a")(new Date(2023, 0, 1, 0, 5).getTime())).toBe("12 AM");
    expect(javaDateFormat("Z")(at)).toMatch(/^[+-]\d{4}$/);
    expect(() => javaDateFormat("q")).toThrow("pattern letter 'q' is not supported");
    expect(() => javaDateFormat("'open")).toThrow("unterminated quote in 'open");
    expect(() => javaDateFormat("XXXX")).toThrow("invalid ISO 8601 format: length=4");
  });
});
