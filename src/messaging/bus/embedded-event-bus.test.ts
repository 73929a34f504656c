import { cpSync, existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Clock } from "../../time/index.js";
import { VirtualClock } from "../../time/virtual-clock.js";
import { EmbeddedPubSubService } from "../pubsub/embedded-pubsub-service.js";
import { EmbeddedQueueService } from "../queues/index.js";
import { type BusUnderTest, describeBusConformance } from "./conformance.js";
import { EmbeddedEventBus } from "./embedded-event-bus.js";
import { JsonCatalog } from "../pubsub/json-catalog.js";

const dirs: string[] = [];
const dirOf = new WeakMap<BusUnderTest, string>();

async function openAt(dir: string, clock: Clock): Promise<BusUnderTest> {
  const queues = await EmbeddedQueueService.open(join(dir, "queues"), { clock, fsync: "never" });
  const topics = await EmbeddedPubSubService.open(join(dir, "pubsub"), {
    clock,
    queues,
    fsync: "never",
  });
  const bus = await EmbeddedEventBus.open(join(dir, "bus"), {
    clock,
    queues,
    topics,
    fsync: "never",
    random: () => 0.5,
  });
  const services = { bus, queues, topics };
  dirOf.set(services, dir);
  return services;
}

async function closeAll(services: BusUnderTest): Promise<void> {
  await services.bus.close();
  await services.topics.close();
  await services.queues.close();
}

describeBusConformance({
  name: "embedded",
  open(clock) {
    const dir = mkdtempSync(join(tmpdir(), "sluice-bus-"));
    dirs.push(dir);
    return openAt(dir, clock);
  },
  async reopen(services, clock) {
    const dir = dirOf.get(services)!;
    await closeAll(services);
    return openAt(dir, clock);
  },
  close: closeAll,
});

afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("EmbeddedEventBus on disk", () => {
  it("drops the rules and archives of a bus that is gone (left by an earlier release's race)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-bus-"));
    dirs.push(dir);
    const clock = new VirtualClock();
    const first = await openAt(dir, clock);
    await first.bus.createEventBus({ Name: "b" });
    await first.bus.putRule({ Name: "r", EventBusName: "b", EventPattern: '{"source":["a"]}' });
    const { ArchiveArn } = await first.bus.createArchive({
      ArchiveName: "arc",
      EventSourceArn: "arn:aws:events:us-east-1:000000000000:event-bus/b",
    });
    expect(ArchiveArn).toContain("arc");
    await closeAll(first);
    // What the race left: the bus's entry deleted, its rule's and archive's kept.
    const catalog = await JsonCatalog.open(
      join(dir, "bus", "catalog"),
      { clock, fsync: "always", name: "catalog/bus" },
      (v): v is unknown => v !== undefined,
    );
    await catalog.delete("bus:b");
    await catalog.close();
    for (let round = 0; round < 2; round++) {
      const services = await openAt(dir, clock);
      try {
        if (round === 0) await services.bus.createEventBus({ Name: "b" });
        expect((await services.bus.listRules({ EventBusName: "b" })).Rules).toEqual([]);
        expect((await services.bus.listArchives({})).Archives).toEqual([]);
      } finally {
        await closeAll(services);
      }
    }
  });

  it("removes the directory of a bus deleted just before a crash; the name starts empty", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-bus-"));
    dirs.push(dir);
    const clock = new VirtualClock();
    const busDir = join(dir, "bus", "buses", "b");
    const saved = join(dir, "saved-bus-b");
    let services = await openAt(dir, clock);
    await services.bus.createEventBus({ Name: "b" });
    await services.bus.putEvents({
      Entries: [{ Source: "shop", DetailType: "T", Detail: '{"id":"old"}', EventBusName: "b" }],
    });
    await closeAll(services);
    cpSync(busDir, saved, { recursive: true });
    services = await openAt(dir, clock);
    await services.bus.deleteEventBus({ Name: "b" });
    await closeAll(services);
    // What a crash between the catalog's delete and the directory's removal leaves.
    cpSync(saved, busDir, { recursive: true });

    services = await openAt(dir, clock);
    expect(existsSync(busDir)).toBe(false);
    const seen: string[] = [];
    services.bus.registerHandler("seen", (input) => {
      seen.push((input as { detail: { id: string } }).detail.id);
    });
    await services.bus.createEventBus({ Name: "b" });
    await services.bus.putRule({
      Name: "all",
      EventBusName: "b",
      EventPattern: '{"source":["shop"]}',
    });
    await services.bus.putTargets({
      Rule: "all",
      EventBusName: "b",
      Targets: [{ Id: "h", Arn: "arn:aws:lambda:us-east-1:000000000000:function:seen" }],
    });
    await services.bus.putEvents({
      Entries: [{ Source: "shop", DetailType: "T", Detail: '{"id":"new"}', EventBusName: "b" }],
    });
    for (let i = 0; i < 100 && !seen.includes("new"); i++) await clock.advance(100);
    expect(seen).toEqual(["new"]);
    await closeAll(services);
  });

  it("keeps buses named '.' and '..' inside buses/: deleting one leaves every other bus and rule", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-bus-"));
    dirs.push(dir);
    const clock = new VirtualClock();
    let services = await openAt(dir, clock);
    for (const Name of [".", "..", "keep"]) {
      await services.bus.createEventBus({ Name });
      await services.bus.putRule({
        Name: "r",
        EventBusName: Name,
        EventPattern: '{"source":["s"]}',
      });
      await services.bus.putEvents({
        Entries: [{ Source: "s", DetailType: "T", Detail: "{}", EventBusName: Name }],
      });
    }
    await services.bus.deleteEventBus({ Name: ".." });
    await services.bus.deleteEventBus({ Name: "." });
    await closeAll(services);
    expect(existsSync(join(dir, "bus", "buses", "keep"))).toBe(true);
    expect(existsSync(join(dir, "bus", "buses", "default"))).toBe(true);

    services = await openAt(dir, clock);
    const names = (await services.bus.listEventBuses({})).EventBuses.map((b) => b.Name);
    expect(names.sort()).toEqual(["default", "keep"]);
    expect(
      (await services.bus.listRules({ EventBusName: "keep" })).Rules.map((r) => r.Name),
    ).toEqual(["r"]);
    await closeAll(services);
  });

  // A data directory opened and closed unused is as opening left it, so a command that fails
  // can tell that it holds nothing and remove it.
  it("an idle bus saves no dispatch cursor, neither at its checkpoints nor on close", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-bus-"));
    dirs.push(dir);
    const clock = new VirtualClock();
    const services = await openAt(dir, clock);
    await clock.advance(1_000);
    await (services.bus as EmbeddedEventBus).checkpoint();
    await closeAll(services);
    expect(statSync(join(dir, "bus", "cursors", "00000000000000000000.log")).size).toBe(0);
  });
});
