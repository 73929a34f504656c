import { JetStreamApiError, type JetStreamManager, type StreamInfo } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";
import { SluiceError } from "../../errors/index.js";
import { natsConnection, streamInfo, wholeNumberOption } from "./nats-connection.js";

/** A manager whose `streams.info` answers from a script of outcomes, one per call. */
function managerAnswering(outcomes: (StreamInfo | Error)[]): {
  jsm: JetStreamManager;
  calls: () => number;
} {
  let calls = 0;
  const streams = {
    info: (): Promise<StreamInfo> => {
      const outcome = outcomes[Math.min(calls++, outcomes.length - 1)]!;
      return outcome instanceof Error ? Promise.reject(outcome) : Promise.resolve(outcome);
    },
  };
  return { jsm: { streams } as unknown as JetStreamManager, calls: () => calls };
}

const notFound = (): JetStreamApiError =>
  new JetStreamApiError({ code: 404, err_code: 10059, description: "stream not found" });

describe("streamInfo", () => {
  it("asks again while a just-created stream is still unknown to the answering server", async () => {
    const info = { config: { name: "s" } } as unknown as StreamInfo;
    const { jsm, calls } = managerAnswering([notFound(), notFound(), info]);
    await expect(streamInfo(jsm, "s")).resolves.toBe(info);
    expect(calls()).toBe(3);
  });

  it("gives up on a stream that stays unknown, and at once on any other error", async () => {
    const missing = managerAnswering([notFound()]);
    await expect(streamInfo(missing.jsm, "s")).rejects.toThrow("stream not found");
    expect(missing.calls()).toBeGreaterThan(5);
    const other = managerAnswering([new Error("permissions violation")]);
    await expect(streamInfo(other.jsm, "s")).rejects.toThrow("permissions violation");
    expect(other.calls()).toBe(1);
  });
});

describe("natsConnection", () => {
  it("says which servers it could not reach, as a SluiceError with the client's error as cause", async () => {
    const error = await natsConnection({ servers: "nats://127.0.0.1:1" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SluiceError);
    expect(error).toMatchObject({ code: "SLUICE_IO", field: "messaging" });
    expect((error as Error).message).toMatch(
      /^messaging: cannot connect to the NATS servers nats:\/\/127\.0\.0\.1:1: /,
    );
    expect((error as Error).cause).toBeInstanceOf(Error);
  });
});

describe("wholeNumberOption", () => {
  it("takes a whole number from 0 up, or the fallback when not given", () => {
    expect(wholeNumberOption(undefined, "heldPayloadBytes", 64)).toBe(64);
    expect(wholeNumberOption(0, "heldPayloadBytes", 64)).toBe(0);
    expect(wholeNumberOption(1024, "heldPayloadBytes", 64)).toBe(1024);
  });

  it("refuses anything else with SLUICE_VALIDATION naming the field", () => {
    for (const bad of [-1, 1.5, Number.NaN, "5", null])
      expect(() => wholeNumberOption(bad, "compactionIntervalMs", 0)).toThrow(
        expect.objectContaining({ code: "SLUICE_VALIDATION", field: "compactionIntervalMs" }),
      );
  });
});
