import { EventEmitter, getEventListeners } from "node:events";
import type { FastifyReply } from "fastify";
import { describe, expect, it } from "vitest";
import { requestSignal } from "./request-signal.js";

/** The part of a reply `requestSignal` uses: the raw response's close event and whether it finished. */
class FakeResponse extends EventEmitter {
  writableFinished = false;

  finish(): void {
    this.writableFinished = true;
    this.emit("close");
  }

  clientGone(): void {
    this.emit("close");
  }
}

const reply = (raw: FakeResponse): FastifyReply => ({ raw }) as unknown as FastifyReply;

describe("requestSignal", () => {
  it("aborts every open request at shutdown through one listener on the shutdown signal", () => {
    const shutdown = new AbortController();
    const signals = Array.from({ length: 100 }, () =>
      requestSignal(reply(new FakeResponse()), shutdown.signal),
    );
    // One listener however many requests are open: adding and removing listeners walks them all.
    expect(getEventListeners(shutdown.signal, "abort")).toHaveLength(1);
    expect(signals.some((s) => s.aborted)).toBe(false);
    shutdown.abort();
    expect(signals.every((s) => s.aborted)).toBe(true);
  });

  it("aborts when the client goes away before the answer, not once the answer was sent", () => {
    const shutdown = new AbortController();
    const gone = new FakeResponse();
    const answered = new FakeResponse();
    const goneSignal = requestSignal(reply(gone), shutdown.signal);
    const answeredSignal = requestSignal(reply(answered), shutdown.signal);
    gone.clientGone();
    answered.finish();
    expect(goneSignal.aborted).toBe(true);
    expect(answeredSignal.aborted).toBe(false);
    // A request that ended is no longer the shutdown's to abort.
    shutdown.abort();
    expect(answeredSignal.aborted).toBe(false);
  });

  it("is aborted at once after shutdown", () => {
    const shutdown = new AbortController();
    shutdown.abort();
    expect(requestSignal(reply(new FakeResponse()), shutdown.signal).aborted).toBe(true);
  });
});
