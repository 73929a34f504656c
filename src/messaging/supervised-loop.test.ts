import { expect, it } from "vitest";
import { VirtualClock } from "../time/index.js";
import { superviseLoop } from "./supervised-loop.js";

it("runs a failed loop again after the pause, until it ends or the signal aborts", async () => {
  const clock = new VirtualClock();
  const abort = new AbortController();
  const failures: string[] = [];
  let runs = 0;
  const supervised = superviseLoop(
    async () => {
      runs++;
      if (runs <= 2) throw new Error(`read failed ${runs}`);
    },
    {
      clock,
      signal: abort.signal,
      restartDelayMs: 1000,
      onFailure: (e) => failures.push(e.message),
    },
  );
  await clock.advance(999);
  expect(runs).toBe(1);
  await clock.advance(1);
  expect(runs).toBe(2);
  await clock.advance(1000);
  await supervised;
  expect(runs).toBe(3);
  expect(failures).toEqual(["read failed 1", "read failed 2"]);
});

it("ends during the pause when the signal aborts, and reports no failure after it", async () => {
  const clock = new VirtualClock();
  const abort = new AbortController();
  const failures: Error[] = [];
  let runs = 0;
  const supervised = superviseLoop(
    async () => {
      runs++;
      throw new Error("always");
    },
    { clock, signal: abort.signal, restartDelayMs: 1000, onFailure: (e) => failures.push(e) },
  );
  await clock.advance(10);
  abort.abort();
  await supervised;
  expect([runs, failures.length]).toEqual([1, 1]);
});
