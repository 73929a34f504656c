import { JetStreamApiError } from "@nats-io/jetstream";
import { TimeoutError } from "@nats-io/transport-node";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { answerWithin } from "./answer-within.js";

const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

describe("answerWithin", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("gives the answer that comes in time", async () => {
    await expect(answerWithin(Promise.resolve(7), 1000)).resolves.toBe(7);
  });

  it("gives undefined once the time is up, not the request's own timeout later", async () => {
    const answer = answerWithin(never<number>(), 1500);
    let settled = false;
    void answer.then(() => (settled = true));
    await vi.advanceTimersByTimeAsync(1499);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await expect(answer).resolves.toBeUndefined();
  });

  it("gives undefined for a request that timed out or that JetStream cannot answer yet", async () => {
    await expect(answerWithin(Promise.reject(new TimeoutError()), 1000)).resolves.toBeUndefined();
    const unavailable = new JetStreamApiError({
      code: 503,
      err_code: 10008,
      description: "JetStream system temporarily unavailable",
    });
    await expect(answerWithin(Promise.reject(unavailable), 1000)).resolves.toBeUndefined();
  });

  it("throws any other error", async () => {
    const notFound = new JetStreamApiError({
      code: 404,
      err_code: 10059,
      description: "stream not found",
    });
    await expect(answerWithin(Promise.reject(notFound), 1000)).rejects.toBe(notFound);
  });
});
