// A writer process for crash tests: appends self-verifying records with fsync "always" from
// several concurrent appenders and prints every acknowledged offset, until it is killed.
import { createHash } from "node:crypto";
import { openLog } from "../log.js";
import { waitForGo } from "./warm-worker.js";

const [dir, writerId = "w", appenders = "8"] = process.argv.slice(2);
if (dir === undefined) throw new Error("usage: crash-writer DIR [writerId] [appenders]");

/** A value that proves its own integrity: a label and a digest of that label. */
export function recordValue(label: string): Buffer {
  const digest = createHash("sha256").update(label).digest("hex");
  return Buffer.from(`${label}|${digest}`);
}

await waitForGo();
const log = await openLog(dir, {
  fsync: "always",
  segmentBytes: 64 * 1024,
  maintenanceIntervalMs: 0,
});
process.stdout.write(`open ${log.logEndOffset}\n`);
let sequence = 0;
async function appender(id: number): Promise<never> {
  for (;;) {
    const count = 1 + (sequence % 5);
    const labels = Array.from({ length: count }, () => `${writerId}-${id}-${sequence++}`);
    const result = await log.append(
      labels.map((label) => ({ key: Buffer.from(label), value: recordValue(label) })),
    );
    process.stdout.write(`ack ${result.baseOffset} ${labels.join(",")}\n`);
  }
}
await Promise.all(Array.from({ length: Number(appenders) }, (_, i) => appender(i)));
