import { describe, expect, it } from "vitest";
import { SimulatedFileSystem } from "../engine/index.js";
import { MetricsRegistry } from "../observability/index.js";
import { VirtualClock } from "../time/index.js";
import { open, type Sluice } from "./open.js";
import { settle } from "./test-support/settle.js";

const BUS_ARN = "arn:aws:events:us-east-1:000000000000:event-bus/default";

async function setUp(sluice: Sluice): Promise<string> {
  const { QueueUrl } = await sluice.queues.createQueue({ QueueName: "sink" });
  await sluice.bus.createArchive({ ArchiveName: "all", EventSourceArn: BUS_ARN });
  await sluice.bus.putRule({ Name: "r", EventPattern: JSON.stringify({ source: ["shop"] }) });
  await sluice.bus.putTargets({
    Rule: "r",
    Targets: [{ Id: "q", Arn: "arn:aws:sqs:us-east-1:000000000000:sink" }],
  });
  return QueueUrl;
}

async function put(sluice: Sluice, n: number): Promise<void> {
  const { FailedEntryCount } = await sluice.bus.putEvents({
    Entries: [{ Source: "shop", DetailType: "order", Detail: JSON.stringify({ n }) }],
  });
  expect(FailedEntryCount).toBe(0);
}

async function sunk(sluice: Sluice, QueueUrl: string): Promise<number[]> {
  const { Messages } = await sluice.queues.receiveMessage({ QueueUrl, MaxNumberOfMessages: 10 });
  return Messages.map((m) => (JSON.parse(m.Body) as { detail: { n: number } }).detail.n).sort();
}

/**
 * A bus writes matching events to its archives before delivering them. A write the disk
 * refused used to reject the bus's dispatcher: an unhandled rejection (which ends a Node
 * process) and a bus that delivered nothing more until a restart.
 */
describe("a bus whose archive write fails", () => {
  it("tries the write again, then archives and delivers every event", async () => {
    const fs = new SimulatedFileSystem(61);
    const clock = new VirtualClock();
    const sluice = await open("/data", { fs, clock, fsync: "never" });
    const QueueUrl = await setUp(sluice);
    fs.tearNextWrite(10, "/archives/");
    await put(sluice, 1);
    await settle(clock, 500, 50);
    await put(sluice, 2);
    await settle(clock, 500, 50);
    expect(await sunk(sluice, QueueUrl)).toEqual([1, 2]);
    expect((await sluice.bus.describeArchive({ ArchiveName: "all" })).EventCount).toBe(2);
    await sluice.close();
  });

  it("skips an archive whose log a failed fsync stopped, and goes on delivering", async () => {
    const fs = new SimulatedFileSystem(62);
    const clock = new VirtualClock();
    const metrics = new MetricsRegistry();
    // Only the archive's log syncs (on its own 50 ms timer): it is the one the fsync fails.
    const sluice = await open("/data", { fs, clock, fsync: "never", metrics });
    const QueueUrl = await setUp(sluice);
    await put(sluice, 1);
    await settle(clock, 200, 50);
    fs.failNextSyncs(1);
    await put(sluice, 2);
    await settle(clock, 200, 50);
    await put(sluice, 3);
    await settle(clock, 200, 50);
    expect(await sunk(sluice, QueueUrl)).toEqual([1, 2, 3]);
    const skipped = metrics
      .collect()
      .find((m) => m.name === "sluice_bus_archive_skipped_total" && m.labels.bus === "default");
    expect(skipped).toMatchObject({ value: 1 });
    await sluice.close().catch(() => undefined);
  });
});
