import { JetStreamApiError } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../time/index.js";
import { retryWhileUnavailable } from "./retry-unavailable.js";

const unavailable = () =>
  new JetStreamApiError({
    code: 503,
    err_code: 10008,
    description: "JetStream system temporarily unavailable",
  });
const notFound = () =>
  new JetStreamApiError({ code: 404, err_code: 10059, description: "stream not found" });

const storeFailed = () =>
  new JetStreamApiError({
    code: 500,
    err_code: 10049,
    description: "error creating store for stream",
  });

/** A call that throws `errors` in turn, then answers "done"; counts its calls. */
function failing(errors: Error[]) {
  const call = async (): Promise<string> => {
    call.calls++;
    const error = errors.shift();
    if (error !== undefined) throw error;
    return "done";
  };
  call.calls = 0;
  return call;
}

describe("retryWhileUnavailable", () => {
  it("calls again while JetStream is temporarily unavailable", async () => {
    const call = failing([unavailable(), unavailable()]);
    await expect(retryWhileUnavailable(call, { timeoutMs: 1000, pauseMs: 1 })).resolves.toBe(
      "done",
    );
    expect(call.calls).toBe(3);
  });

  it("passes any other error on at once", async () => {
    const call = failing([notFound()]);
    await expect(retryWhileUnavailable(call, { timeoutMs: 1000, pauseMs: 1 })).rejects.toThrow(
      "stream not found",
    );
    expect(call.calls).toBe(1);
  });

  it("calls again on stream not found only for a stream just created", async () => {
    const call = failing([notFound()]);
    await expect(
      retryWhileUnavailable(call, { timeoutMs: 1000, pauseMs: 1, streamJustCreated: true }),
    ).resolves.toBe("done");
    expect(call.calls).toBe(2);
  });

  it("calls again on a failure to create a stream's store only for a call creating a stream", async () => {
    const creating = failing([storeFailed(), storeFailed()]);
    await expect(
      retryWhileUnavailable(creating, { timeoutMs: 1000, pauseMs: 1, creatingStream: true }),
    ).resolves.toBe("done");
    expect(creating.calls).toBe(3);
    const other = failing([storeFailed()]);
    await expect(retryWhileUnavailable(other, { timeoutMs: 1000, pauseMs: 1 })).rejects.toThrow(
      "error creating store for stream",
    );
    expect(other.calls).toBe(1);
  });

  it("gives up after its time with the last error, waiting on the clock it is given", async () => {
    const clock = new VirtualClock();
    const call = failing(Array.from({ length: 1000 }, unavailable));
    const result = retryWhileUnavailable(call, { timeoutMs: 1000, pauseMs: 250, clock });
    const settled = expect(result).rejects.toThrow("temporarily unavailable");
    await clock.advance(600);
    expect(call.calls).toBe(3); // at 0, 250 and 500 ms of the clock
    await clock.advance(400);
    await settled;
    // A first call and one more for each 250 ms of the second.
    expect(call.calls).toBe(5);
  });
});
