import { describe, expect, it } from "vitest";
import { runLongPollBench } from "./server.bench.js";

// Only checks that the long-poll phase runs end to end and reports its figures; speed is judged
// by `sluice bench server --only long-polls`, never here.
describe("sluice bench server --only long-polls (tiny inputs)", () => {
  it("measures only the wake-ups asked for, after the unmeasured ones, with the floor and CPU beside them", async () => {
    const { longPolls } = await runLongPollBench({
      numMessages: 1,
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
