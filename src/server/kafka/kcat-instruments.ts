// The end-to-end run's instruments, in a worker thread (see kcat.bench.ts): the paced writer
// feeding a kcat producer and the reader timing a kcat consumer's lines. On the listener's event
// loop the broker's own work delayed them, and that delay counted as the broker's latency.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { parentPort, workerData } from "node:worker_threads";

export interface InstrumentsPlan {
  readonly kcat: string;
  readonly stdbuf: string;
  readonly bootstrap: string;
  readonly topic: string;
  readonly compression: string;
  readonly recordSize: number;
  /** Records per second. */
  readonly rate: number;
  readonly total: number;
}

/** Times in ms since the epoch (performance.timeOrigin + performance.now(), in every thread). */
export interface InstrumentTimes {
  /** When record 0 was due; record i was due i / rate seconds later. */
  readonly startedAt: number;
  /** Lines that came out of the consumer. */
  readonly received: number;
  /** When record i was written into the producer's input (0: never). */
  readonly written: Float64Array<ArrayBuffer>;
  /** When line i came out of the consumer (0: never). */
  readonly printed: Float64Array<ArrayBuffer>;
  /** The due time line i carried. */
  readonly dueOfLine: Float64Array<ArrayBuffer>;
}

const now = (): number => performance.timeOrigin + performance.now();

/**
 * Records written at `rate` per second into one kcat producer, each carrying the time it was
 * due (its intended send time); a kcat consumer prints them and the time they come out gives
 * the latency.
 */
async function run(p: InstrumentsPlan): Promise<InstrumentTimes> {
  const written = new Float64Array(p.total);
  const printed = new Float64Array(p.total);
  const dueOfLine = new Float64Array(p.total);
  // Line-buffered output: one write per record, flushed as the record is printed. kcat's own
  // unbuffered mode (-u) writes the value and the newline separately, two system calls a record,
  // which at 20,000 records/s made the consumer fall seconds behind on a loaded 2-core machine.
  const consumer = spawn(
    p.stdbuf,
    [
      "-oL",
      p.kcat,
      "-b",
      p.bootstrap,
      "-C",
      "-t",
      p.topic,
      "-o",
      "beginning",
      "-q",
      "-f",
      "%s\n",
      "-X",
      "fetch.wait.max.ms=100",
    ],
    { stdio: ["ignore", "pipe", "ignore"] },
  );
  let received = 0;
  const done = new Promise<void>((resolve) => {
    createInterface({ input: consumer.stdout }).on("line", (line) => {
      if (received < p.total) {
        printed[received] = now();
        dueOfLine[received] = Number(line.slice(0, line.indexOf(" ")));
      }
      if (++received >= p.total) resolve();
    });
  });
  await new Promise((r) => setTimeout(r, 1500));
  const producer = spawn(
    p.kcat,
    [
      "-b",
      p.bootstrap,
      "-P",
      "-t",
      p.topic,
      "-z",
      p.compression,
      "-X",
      "acks=all",
      "-X",
      "linger.ms=1",
    ],
    { stdio: ["pipe", "ignore", "ignore"] },
  );
  const padding = "x".repeat(Math.max(0, p.recordSize - 20));
  const intervalMs = 1000 / p.rate;
  const started = performance.now();
  let sent = 0;
  while (sent < p.total) {
    // Each record goes out once it is due, stamped with the time it was due (not the time it
    // was written): a writer that stalls counts against the latency instead of hiding it.
    const due = Math.min(p.total, Math.floor((performance.now() - started) / intervalMs) + 1);
    const from = sent;
    let chunk = "";
    for (; sent < due; sent++)
      chunk += `${(performance.timeOrigin + started + sent * intervalMs).toFixed(3)} ${padding}\n`;
    if (chunk !== "") {
      producer.stdin.write(chunk);
      written.fill(now(), from, sent);
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  // kcat sends what it has read and exits at the end of its input.
  producer.stdin.end();
  await new Promise((r) => producer.once("exit", r));
  // A stalled consumer gives up after 10 s; the timer is cleared so it keeps nothing alive.
  let giveUp: NodeJS.Timeout | undefined;
  await Promise.race([done, new Promise<void>((r) => (giveUp = setTimeout(r, 10_000)))]);
  clearTimeout(giveUp);
  consumer.kill("SIGTERM");
  return {
    startedAt: performance.timeOrigin + started,
    received,
    written,
    printed,
    dueOfLine,
  };
}

// Only in the worker: its starter imports this module's types alone.
if (parentPort !== null) {
  const port = parentPort;
  const times = await run(workerData as InstrumentsPlan);
  port.postMessage(times, [times.written.buffer, times.printed.buffer, times.dueOfLine.buffer]);
}
