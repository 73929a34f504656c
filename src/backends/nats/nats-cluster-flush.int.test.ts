import { afterAll, beforeAll, expect, it } from "vitest";
import type { LoopbackNatsCluster } from "./loopback-nats-cluster.js";
import { startTestCluster, testFlush } from "./test-support/nats-cluster.js";
import { describeWithNats } from "./test-support/describe-with-nats.js";

// The durability tests (failover, crash) claim what they claim for servers that flush every
// write before acknowledging it. This asks each server of the tests' cluster, through its own
// monitoring endpoint, whether it does.
describeWithNats("NATS test cluster flush setting", () => {
  const always = testFlush() === "always";
  let tests: LoopbackNatsCluster | undefined;
  let timer: LoopbackNatsCluster | undefined;
  beforeAll(async () => {
    [tests, timer] = await Promise.all([
      always ? startTestCluster(3) : undefined,
      startTestCluster(3, "default"),
    ]);
  });
  afterAll(async () => {
    await Promise.all([tests?.stop(), timer?.stop()]);
  });

  async function jsz(cluster: LoopbackNatsCluster, index: number) {
    const response = await fetch(`${cluster.monitorUrlOf(index)}/jsz`);
    expect(response.status).toBe(200);
    return ((await response.json()) as { config: Record<string, unknown> }).config;
  }

  it.skipIf(!always)(
    "every node of the tests' cluster runs sync_interval: always (its /jsz says sync_always)",
    async () => {
      const cluster = tests!;
      for (const index of [0, 1, 2]) expect((await jsz(cluster, index)).sync_always).toBe(true);
      console.log(cluster.describe());
    },
  );

  it("a cluster started with the default flush reports no sync_always", async () => {
    const cluster = timer!;
    for (const index of [0, 1, 2])
      expect((await jsz(cluster, index)).sync_always ?? false).toBe(false);
  });
});
