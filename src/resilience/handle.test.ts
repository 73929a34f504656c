import { describe, expect, it } from "vitest";
import { SluiceError } from "../errors/index.js";
import {
  handleAll,
  handleCode,
  handleNone,
  handleTransient,
  handleType,
  handleWhen,
  handleWhenResult,
} from "./handle.js";

class HttpError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

describe("handlers", () => {
  it("handleAll handles every error and no result", () => {
    expect(handleAll.handlesError(new Error("x"))).toBe(true);
    expect(handleAll.handlesError("a string")).toBe(true);
    expect(handleAll.checksResults).toBe(false);
    expect(handleNone.handlesError(new Error("x"))).toBe(false);
  });

  it("handleType matches instances and applies the filter", () => {
    const h = handleType(HttpError, (e) => e.status >= 500);
    expect(h.handlesError(new HttpError(503))).toBe(true);
    expect(h.handlesError(new HttpError(404))).toBe(false);
    expect(h.handlesError(new Error("other"))).toBe(false);
  });

  it("combines cases with or*, leaving the original untouched", () => {
    const base = handleType(HttpError);
    const wider = base.orCode("SLUICE_TIMEOUT").orWhen((e) => e === "boom");
    const timeoutError = new SluiceError("SLUICE_TIMEOUT", "t");
    expect(wider.handlesError(timeoutError)).toBe(true);
    expect(wider.handlesError("boom")).toBe(true);
    expect(base.handlesError(timeoutError)).toBe(false);
    expect(handleCode("SLUICE_IO").handlesError(new SluiceError("SLUICE_IO", "x"))).toBe(true);
    expect(handleWhen((e) => e instanceof TypeError).handlesError(new TypeError("t"))).toBe(true);
  });

  it("handleWhenResult checks results, not errors", () => {
    const h = handleWhenResult<{ status: number }>((r) => r.status === 429);
    expect(h.checksResults).toBe(true);
    expect(h.handlesResult({ status: 429 })).toBe(true);
    expect(h.handlesResult({ status: 200 })).toBe(false);
    expect(h.handlesError(new Error("x"))).toBe(false);
  });

  it("handleTransient skips Sluice's own fast rejections and aborts", () => {
    for (const code of [
      "SLUICE_BROKEN_CIRCUIT",
      "SLUICE_ISOLATED_CIRCUIT",
      "SLUICE_BULKHEAD_REJECTED",
      "SLUICE_RATE_LIMITED",
      "SLUICE_ABORTED",
    ] as const) {
      expect(handleTransient.handlesError(new SluiceError(code, "x"))).toBe(false);
    }
    expect(handleTransient.handlesError(new SluiceError("SLUICE_TIMEOUT", "x"))).toBe(true);
    expect(handleTransient.handlesError(new Error("ECONNRESET"))).toBe(true);
  });
});
