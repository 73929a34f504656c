// A process that opens a log and holds it (and its lock) until it is killed, for lock tests.
import { openLog } from "../log.js";

const [dir] = process.argv.slice(2);
if (dir === undefined) throw new Error("usage: lock-holder DIR");

const log = await openLog(dir, { fsync: "always", maintenanceIntervalMs: 0 });
await log.append([{ value: Buffer.from(`held by ${process.pid}`) }]);
process.stdout.write(`open ${process.pid}\n`);
// The log's timers never keep a process alive: this does, idly, until the test kills it.
setInterval(() => undefined, 60_000);
