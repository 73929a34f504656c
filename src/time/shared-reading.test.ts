import { expect, it } from "vitest";
import { sharedReading } from "./shared-reading.js";

it("shares a reading among up to maxUses calls of one synchronous run, and reads again after it", async () => {
  let time = 0;
  let reads = 0;
  const now = sharedReading(() => {
    reads++;
    return time++;
  }, 3);
  expect([now(), now(), now(), now(), now(), now(), now()]).toEqual([0, 0, 0, 1, 1, 1, 2]);
  expect(reads).toBe(3);
  await Promise.resolve();
  expect([now(), now()]).toEqual([3, 3]);
  expect(reads).toBe(4);
});
