// A process that races others to open logs: it says "ready", waits for "go <epoch ms> <ms>",
// then opens the i-th directory at start + i * ms, printing "<i> won <pid>" or
// "<i> locked <holder pid> <message>" for each, then "done". Winners keep their logs (and
// locks) open until stdin closes. Many rounds make a narrow race likely to show.
import { createInterface } from "node:readline";
import { isSluiceError } from "../../errors/index.js";
import { type Log, openLog } from "../log.js";

const dirs = process.argv.slice(2);
if (dirs.length === 0) throw new Error("usage: lock-racer DIR...");

const lines = createInterface({ input: process.stdin });
const go = new Promise<[number, number]>((resolve) =>
  lines.once("line", (line) => {
    const [, start, round] = line.split(" ");
    resolve([Number(start), Number(round)]);
  }),
);
process.stdout.write("ready\n");
const [startAt, roundMs] = await go;

const opened: Log[] = [];
for (const [i, dir] of dirs.entries()) {
  // Sleep until just before the round, then spin, so every racer starts within a millisecond.
  const at = startAt + i * roundMs;
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now() - 3)));
  while (Date.now() < at);
  try {
    opened.push(await openLog(dir, { maintenanceIntervalMs: 0 }));
    process.stdout.write(`${i} won ${process.pid}\n`);
  } catch (error) {
    if (isSluiceError(error, "SLUICE_LOCKED"))
      process.stdout.write(`${i} locked ${String(error.details?.pid)} ${error.message}\n`);
    else process.stdout.write(`${i} error ${String(error)}\n`);
  }
}
process.stdout.write("done\n");
await new Promise((resolve) => lines.once("close", resolve));
for (const log of opened) await log.close();
