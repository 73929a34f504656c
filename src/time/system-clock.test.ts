import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { SystemClock } from "./clock.js";

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
});
afterEach(() => {
  vi.useRealTimers();
});

const DAY_MS = 24 * 60 * 60 * 1000;

it("a timer longer than one Node timer holds (2^31 - 1 ms) runs when due, not after 1 ms", () => {
  const clock = new SystemClock();
  const fired = vi.fn();
  clock.setTimer(30 * DAY_MS, fired, { keepAlive: true });
  vi.advanceTimersByTime(1000);
  expect(fired).not.toHaveBeenCalled();
  vi.advanceTimersByTime(30 * DAY_MS - 1001);
  expect(fired).not.toHaveBeenCalled();
  vi.advanceTimersByTime(1);
  expect(fired).toHaveBeenCalledTimes(1);
  vi.advanceTimersByTime(60 * DAY_MS);
  expect(fired).toHaveBeenCalledTimes(1);
});

it("a long timer cancelled between the links of its chain never runs", () => {
  const clock = new SystemClock();
  const fired = vi.fn();
  const timer = clock.setTimer(60 * DAY_MS, fired);
  vi.advanceTimersByTime(40 * DAY_MS);
  timer.cancel();
  vi.advanceTimersByTime(40 * DAY_MS);
  expect(fired).not.toHaveBeenCalled();
});
