import { describe, expect, it } from "vitest";
import { fallback } from "./fallback.js";
import { handleAll, handleType, handleWhenResult } from "./handle.js";

describe("fallback", () => {
  it("replaces handled errors with the value", async () => {
    const policy = fallback(handleAll, "cached");
    await expect(policy.execute(() => Promise.reject(new Error("down")))).resolves.toBe("cached");
    await expect(policy.execute(() => "fresh")).resolves.toBe("fresh");
  });

  it("calls a function with the failure to produce the value", async () => {
    const policy = fallback(
      handleWhenResult<number>((n) => n < 0),
      ({ reason }) => ("result" in reason ? `negative: ${String(reason.result)}` : "error"),
    );
    await expect(policy.execute(() => -3)).resolves.toBe("negative: -3");
    await expect(policy.execute(() => 4)).resolves.toBe(4);
  });

  it("lets unhandled errors through and reports each fallback", async () => {
    class Offline extends Error {}
    const policy = fallback(handleType(Offline), async () => "offline copy");
    const seen: unknown[] = [];
    policy.onFallback((e) => seen.push("error" in e.reason ? e.reason.error : null));
    await expect(policy.execute(() => Promise.reject(new TypeError("bug")))).rejects.toBeInstanceOf(
      TypeError,
    );
    const offline = new Offline();
    await expect(policy.execute(() => Promise.reject(offline))).resolves.toBe("offline copy");
    expect(seen).toEqual([offline]);
  });
});
