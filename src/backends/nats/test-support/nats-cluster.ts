import { existsSync } from "node:fs";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import {
  LoopbackNatsCluster,
  NATS_SERVER_BIN,
  NATS_SERVER_INSTALL_HINT,
  type NatsFlush,
  supportsSyncAlways,
  syncAlwaysMissing,
} from "../loopback-nats-cluster.js";

/** The single JetStream server these machines run. */
export const LOCAL_NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";

/**
 * Why NATS tests cannot run here, or undefined when they can. Under `CI=true` a binary without
 * `sync_interval: always` counts as missing: the durability tests must run against it there.
 */
export function natsServerMissing(): string | undefined {
  if (!existsSync(NATS_SERVER_BIN))
    return `no nats-server binary at ${NATS_SERVER_BIN}; ${NATS_SERVER_INSTALL_HINT}`;
  if (process.env.CI === "true") return syncAlwaysMissing();
  return undefined;
}

/**
 * The flush the tests' clusters run: every write where the binary can, else (outside CI only)
 * the servers' timer.
 */
export function testFlush(): NatsFlush {
  return process.env.CI === "true" || supportsSyncAlways() ? "always" : "default";
}

/** Said beside the tests when their servers flush on the timer only, or undefined. */
export function timerFlushNote(): string | undefined {
  if (testFlush() === "always") return undefined;
  return `servers flush on their 2-minute timer, not every write: ${syncAlwaysMissing()}`;
}

/** Why a test cluster of this file could not be started (outside CI), or undefined. */
let clusterUnavailable: string | undefined;

/** Why the tests of this file cannot have their cluster; `describeWithNats` skips them then. */
export function testClusterUnavailable(): string | undefined {
  return clusterUnavailable;
}

/**
 * A loopback cluster of `size` nodes for tests, flushing as `flush` says (by default, as
 * `testFlush()` says, warning when that is only the servers' timer). When it cannot be started,
 * it throws under `CI=true`; elsewhere it records why and resolves to undefined, and
 * `describeWithNats` skips each test with that reason (a throwing `beforeAll` would fail them).
 */
export async function startTestCluster(size = 3, flush?: NatsFlush): Promise<LoopbackNatsCluster> {
  if (flush === undefined && testFlush() === "default")
    console.warn(`NATS test cluster: ${timerFlushNote()}`);
  try {
    return await LoopbackNatsCluster.start(size, flush ?? testFlush());
  } catch (error) {
    if (process.env.CI === "true") throw error;
    clusterUnavailable = `the NATS test cluster could not be started: ${(error as Error).message}`;
    // Read by no test: every test of a describeWithNats block is skipped before it runs.
    return undefined as unknown as LoopbackNatsCluster;
  }
}

/** Deletes every stream and bucket whose name starts with `prefix` (a test's namespace). */
export async function removeNamespace(servers: string, prefix: string): Promise<void> {
  const nc = await connect({ servers: servers.split(",") });
  try {
    const jsm = await jetstreamManager(nc);
    const names: string[] = [];
    for await (const name of jsm.streams.names()) if (name.includes(prefix)) names.push(name);
    for (const name of names) await jsm.streams.delete(name).catch(() => undefined);
  } finally {
    await nc.close();
  }
}
