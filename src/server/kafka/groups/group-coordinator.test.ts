import { afterEach, describe, expect, it } from "vitest";
import { VirtualClock } from "../../../time/index.js";
import { KafkaErrorCode } from "../protocol/error-codes.js";
import { KafkaGroupCoordinator, type JoinInput } from "./group-coordinator.js";

const clock = new VirtualClock();
let coordinator: KafkaGroupCoordinator;

afterEach(() => coordinator.close());

const joinInput = (memberId = "", protocols = ["range"]): JoinInput => ({
  groupId: "g",
  memberId,
  groupInstanceId: null,
  clientId: "c",
  clientHost: "127.0.0.1",
  sessionTimeoutMs: 10_000,
  rebalanceTimeoutMs: 20_000,
  protocolType: "consumer",
  protocols: protocols.map((name) => ({ name, metadata: Buffer.from(name) })),
});

async function stableGroupOfTwo(): Promise<{ a: string; b: string; generation: number }> {
  coordinator = new KafkaGroupCoordinator(clock);
  const first = await coordinator.join(joinInput());
  await coordinator.sync("g", first.generationId, first.memberId, [
    { memberId: first.memberId, assignment: Buffer.from("all") },
  ]);
  const joiningB = coordinator.join(joinInput());
  // A learns of the rebalance from its heartbeat and rejoins; then both get the new generation.
  expect(coordinator.heartbeat("g", first.generationId, first.memberId)).toBe(
    KafkaErrorCode.REBALANCE_IN_PROGRESS,
  );
  const [a, b] = await Promise.all([coordinator.join(joinInput(first.memberId)), joiningB]);
  expect(a.generationId).toBe(b.generationId);
  const syncA = coordinator.sync("g", a.generationId, a.memberId, [
    { memberId: a.memberId, assignment: Buffer.from("p0") },
    { memberId: b.memberId, assignment: Buffer.from("p1") },
  ]);
  const syncB = coordinator.sync("g", b.generationId, b.memberId, []);
  expect((await syncA).assignment.toString()).toBe("p0");
  expect((await syncB).assignment.toString()).toBe("p1");
  return { a: a.memberId, b: b.memberId, generation: a.generationId };
}

describe("Kafka group coordinator", () => {
  it("a lone member becomes leader at once and gets its own assignment", async () => {
    coordinator = new KafkaGroupCoordinator(clock);
    const joined = await coordinator.join(joinInput());
    expect(joined).toMatchObject({
      errorCode: 0,
      generationId: 1,
      protocolName: "range",
      leader: joined.memberId,
    });
    expect(joined.members).toHaveLength(1);
    const synced = await coordinator.sync("g", 1, joined.memberId, [
      { memberId: joined.memberId, assignment: Buffer.from("x") },
    ]);
    expect(synced).toMatchObject({ errorCode: 0, protocolName: "range" });
    expect(coordinator.describe("g").state).toBe("Stable");
  });

  it("only the leader sees the members; followers wait for the leader's assignments", async () => {
    const { a, b } = await stableGroupOfTwo();
    const view = coordinator.describe("g");
    expect(view.members.map((m) => m.memberId).sort()).toEqual([a, b].sort());
  });

  it("picks a protocol every member offers, and refuses a member that shares none", async () => {
    coordinator = new KafkaGroupCoordinator(clock);
    const first = await coordinator.join(joinInput("", ["cooperative-sticky", "range"]));
    await coordinator.sync("g", first.generationId, first.memberId, []);
    expect((await coordinator.join(joinInput("", ["roundrobin"]))).errorCode).toBe(
      KafkaErrorCode.INCONSISTENT_GROUP_PROTOCOL,
    );
    const second = coordinator.join(joinInput("", ["range"]));
    const again = await coordinator.join(
      joinInput(first.memberId, ["cooperative-sticky", "range"]),
    );
    expect(again.protocolName).toBe("range");
    expect((await second).protocolName).toBe("range");
  });

  it("removes a member silent past its session timeout, and the other rebalances alone", async () => {
    const { a, b, generation } = await stableGroupOfTwo();
    for (let t = 0; t < 12; t++) {
      await clock.advance(1000);
      expect(coordinator.heartbeat("g", generation, a)).not.toBe(KafkaErrorCode.UNKNOWN_MEMBER_ID);
    }
    expect(coordinator.heartbeat("g", generation, b)).toBe(KafkaErrorCode.UNKNOWN_MEMBER_ID);
    expect(coordinator.heartbeat("g", generation, a)).toBe(KafkaErrorCode.REBALANCE_IN_PROGRESS);
    const rejoined = await coordinator.join(joinInput(a));
    expect(rejoined.members.map((m) => m.memberId)).toEqual([a]);
  });

  it("a member that neither rejoins nor heartbeats is dropped from the new generation", async () => {
    const { a, b } = await stableGroupOfTwo();
    const joining = coordinator.join(joinInput(a, ["range"]));
    // b keeps silent: after the rebalance timeout the generation completes without it.
    await clock.advance(20_000);
    const result = await joining;
    expect(result.members.map((m) => m.memberId)).toEqual([a]);
    expect(coordinator.heartbeat("g", result.generationId, b)).toBe(
      KafkaErrorCode.UNKNOWN_MEMBER_ID,
    );
  });

  it("commits need the current generation; simple commits need an empty group", async () => {
    const { a, generation } = await stableGroupOfTwo();
    const offsets = [{ topic: "t", partition: 0, offset: 5, metadata: null }];
    expect(coordinator.commit("g", generation - 1, a, offsets)).toBe(
      KafkaErrorCode.ILLEGAL_GENERATION,
    );
    expect(coordinator.commit("g", -1, "", offsets)).toBe(KafkaErrorCode.UNKNOWN_MEMBER_ID);
    expect(coordinator.commit("g", generation, a, offsets)).toBe(KafkaErrorCode.NONE);
    expect(coordinator.committed("g")).toEqual(offsets);
    expect(coordinator.commit("solo", -1, "", offsets)).toBe(KafkaErrorCode.NONE);
  });

  it("a group is deleted only when it has no members", async () => {
    const { a, b } = await stableGroupOfTwo();
    expect(coordinator.delete("g")).toBe(KafkaErrorCode.NON_EMPTY_GROUP);
    coordinator.leave("g", a);
    coordinator.leave("g", b);
    expect(coordinator.describe("g").state).toBe("Empty");
    expect(coordinator.delete("g")).toBe(KafkaErrorCode.NONE);
    expect(coordinator.delete("g")).toBe(KafkaErrorCode.GROUP_ID_NOT_FOUND);
  });
});
