import { describe, expect, it } from "vitest";
import { runLongPollBench, runServerBench } from "./server.bench.js";

// Only checks that the long-poll phase runs end to end and reports its figures; speed is judged
// by `sluice bench server --only long-polls`, never here.
describe("sluice bench server --only long-polls (tiny inputs)", () => {
  it("measures only the wake-ups asked for, after the unmeasured ones, with the floor and CPU beside them", async () => {
    const { longPolls } = await runLongPollBench({
      numMessages: 1,
      sqsWarmupMessages: 0,
      messageSize: 100,
      producers: 1,
      consumers: 1,
      fsync: "never",
      restRecords: 1,
      restBatch: 1,
      longPolls: 3,
      longPollWakes: 7,
      peers: false,
      quiet: true,
    });
    expect(longPolls.held).toBe(3);
    expect(longPolls.wakes).toBe(7);
    expect(longPolls.wake.count).toBe(7);
    expect(longPolls.sendAnswered.count).toBe(7);
    expect(longPolls.roundTripFloor.count).toBe(7);
    expect(longPolls.wake.p50Ms).toBeGreaterThan(0);
    expect(longPolls.serverRssBytes).toBeGreaterThan(0);
    expect(longPolls.cpuPerWake.clientUs).toBeGreaterThan(0);
    // What stopped each side over the measured wake-ups, to tell the code's tail from the machine's.
    expect(longPolls.clientPauses.wallMs).toBeGreaterThan(0);
    if (process.platform === "linux") {
      expect(longPolls.serverMainThread?.onCpuMs).toBeGreaterThan(0);
      expect(longPolls.serverMainThread?.runQueueWaitMs).toBeGreaterThanOrEqual(0);
    }
  }, 60_000);
});

describe("sluice bench server's SQS legs (tiny inputs)", () => {
  it("times only the messages asked for, after an untimed warm-up of their own", async () => {
    const result = await runServerBench({
      numMessages: 30,
      sqsWarmupMessages: 20,
      messageSize: 100,
      producers: 2,
      consumers: 2,
      fsync: "never",
      restRecords: 10,
      restBatch: 5,
      longPolls: 2,
      longPollWakes: 2,
      peers: false,
      quiet: true,
    });
    for (const leg of [result.sqsSdk, result.sqsQuery]) {
      expect(leg.warmup?.messages).toBe(20);
      expect(leg.warmup?.messagesPerSecond).toBeGreaterThan(0);
      // Each timed message timed once: the warm-up's 20 are neither timed nor left behind.
      expect(leg.endToEnd.count).toBe(30);
      expect(leg.receives).toBeGreaterThanOrEqual(3);
    }
  }, 120_000);
});
