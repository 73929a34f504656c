import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { freePort } from "../../net/free-port.js";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";

/**
 * How the servers flush JetStream writes to disk: on their timer (every 2 minutes, nats-server's
 * default) or before acknowledging every write (`sync_interval: always`, nats-server 2.10+).
 */
export type NatsFlush = "default" | "always";

/** Where scripts/install-nats-server.sh puts nats-server 2.10 (git ignores it). */
const CACHED_NATS_SERVER = fileURLToPath(
  new URL("../../../.cache/nats-server-2.10/nats-server", import.meta.url),
);

/**
 * The nats-server binary a loopback cluster runs: `NATS_SERVER_BIN`, else the 2.10 one
 * scripts/install-nats-server.sh fetches, else Debian's package (2.9 on bookworm).
 */
export const NATS_SERVER_BIN =
  process.env.NATS_SERVER_BIN ??
  (existsSync(CACHED_NATS_SERVER) ? CACHED_NATS_SERVER : "/usr/sbin/nats-server");

/** Where a nats-server that can flush every write comes from. */
export const NATS_SERVER_INSTALL_HINT = "scripts/install-nats-server.sh fetches nats-server 2.10";

let version: number[] | undefined;

/** The server's version, e.g. [2, 10, 27]. */
export function natsServerVersion(): number[] {
  if (version !== undefined) return version;
  const out = execFileSync(NATS_SERVER_BIN, ["--version"], { encoding: "utf8" });
  const match = /v(\d+)\.(\d+)\.(\d+)/.exec(out);
  version = match === null ? [0, 0, 0] : match.slice(1).map(Number);
  return version;
}

/** `sync_interval` (fsync policy) exists from nats-server 2.10 on. */
export function supportsSyncAlways(): boolean {
  const [major = 0, minor = 0] = natsServerVersion();
  return major > 2 || (major === 2 && minor >= 10);
}

/** Why this binary cannot flush every write, or undefined when it can. */
export function syncAlwaysMissing(): string | undefined {
  if (supportsSyncAlways()) return undefined;
  return `nats-server ${natsServerVersion().join(".")} at ${NATS_SERVER_BIN} has no sync_interval (2.10+); ${NATS_SERVER_INSTALL_HINT}`;
}

interface Node {
  readonly name: string;
  readonly clientPort: number;
  readonly routePort: number;
  readonly monitorPort: number;
  readonly config: string;
  process: ChildProcess | undefined;
}

/** What a server's monitoring endpoint `/jsz` says of its JetStream configuration. */
export interface JetStreamConfigReport {
  /** `sync_interval: always`: every write flushed before it is acknowledged. */
  readonly sync_always?: boolean;
  /** The flush timer, in nanoseconds. */
  readonly sync_interval?: number;
  readonly store_dir: string;
}

/** What `/jsz` says of the meta group (the leader lists the others). */
interface MetaClusterReport {
  readonly leader?: string;
  readonly replicas?: readonly { readonly name: string; readonly current: boolean }[];
}

/** What `/routez` says of a node's routes (one per pooled connection to a peer). */
interface RoutesReport {
  readonly routes?: readonly { readonly remote_name?: string; readonly account?: string }[];
}

/** A node dialling a peer that is down, every second: the noise of any failover, not news. */
const ROUTE_RETRY = /Error trying to connect to route/;

/** Routes between two nodes, besides the one pinned to the system account (the server's default). */
const ROUTE_POOL_SIZE = 3;

/**
 * A JetStream cluster of `size` nats-server processes on loopback, each with its own temporary
 * store (removed by `stop`) and monitoring endpoint: the benches' `--nats-cluster` and the
 * tests run on it. `flush` says when the servers write to disk; `start` checks that every node
 * reports it.
 */
export class LoopbackNatsCluster {
  private constructor(
    private readonly dir: string,
    private readonly nodes: Node[],
    readonly flush: NatsFlush,
  ) {}

  /** Starts `size` nodes flushing as `flush` says. */
  static async start(size: number, flush: NatsFlush): Promise<LoopbackNatsCluster> {
    if (flush === "always") {
      const missing = syncAlwaysMissing();
      if (missing !== undefined) throw new Error(`cannot flush every write: ${missing}`);
    }
    // nats-server 2.10 sometimes starts a cluster with a pair of nodes that never speak (about
    // 1 start in 20 here, under load): routes crossing at start are both closed as duplicates
    // and not dialled again; the meta layer may then never count all its peers, or requests
    // between the pair time out. A new cluster (new ports, new stores) then starts as usual.
    for (let attempt = 1; ; attempt++) {
      try {
        return await LoopbackNatsCluster.startOnce(size, flush, 20_000);
      } catch (error) {
        if (attempt === 3) throw error;
        console.warn(`NATS loopback cluster did not form (attempt ${attempt}), starting another`);
      }
    }
  }

  private static async startOnce(
    size: number,
    flush: NatsFlush,
    readyMs: number,
  ): Promise<LoopbackNatsCluster> {
    const dir = mkdtempSync(join(tmpdir(), "sluice-nats-"));
    const ports: number[] = [];
    while (ports.length < size * 3) {
      const port = await freePort();
      if (!ports.includes(port)) ports.push(port);
    }
    const nodes: Node[] = [];
    for (let i = 0; i < size; i++) {
      const name = `n${i + 1}`;
      nodes.push({
        name,
        clientPort: ports[3 * i]!,
        routePort: ports[3 * i + 1]!,
        monitorPort: ports[3 * i + 2]!,
        config: join(dir, `${name}.conf`),
        process: undefined,
      });
    }
    const cluster = new LoopbackNatsCluster(dir, nodes, flush);
    for (const node of nodes) {
      const routes = nodes
        .filter((n) => n !== node)
        .map((n) => `nats-route://127.0.0.1:${n.routePort}`);
      writeFileSync(
        node.config,
        [
          `server_name: ${node.name}`,
          `listen: 127.0.0.1:${node.clientPort}`,
          `http: 127.0.0.1:${node.monitorPort}`,
          `log_file: "${join(dir, `${node.name}.log`)}"`,
          // Room for a 1 MiB message with its attributes in one entry.
          `max_payload: 4MB`,
          `jetstream {`,
          `  store_dir: "${join(dir, node.name)}"`,
          flush === "always" ? `  sync_interval: always` : ``,
          `}`,
          `cluster {`,
          `  name: sluice-test`,
          `  listen: 127.0.0.1:${node.routePort}`,
          `  pool_size: ${ROUTE_POOL_SIZE}`,
          `  routes: [${routes.join(", ")}]`,
          `}`,
        ].join("\n"),
      );
    }
    try {
      for (let i = 0; i < size; i++) cluster.startNode(i);
      await cluster.ready(readyMs);
      const missing = await cluster.routesMissing(Date.now() + 5000);
      if (missing.length > 0) throw new Error(`nats cluster: no route ${missing.join(", ")}`);
      await cluster.checkFlush();
    } catch (error) {
      const logs = cluster.logTails();
      await cluster.stop();
      throw new Error(`${(error as Error).message}\n${logs}`, { cause: error });
    }
    return cluster;
  }

  /** What nats-server this cluster runs and how it flushes, in words. */
  describe(): string {
    const how =
      this.flush === "always"
        ? "flushing every write (sync_interval: always)"
        : "flushing on the servers' 2-minute timer";
    return `${this.nodes.length}-node loopback JetStream cluster of nats-server ${natsServerVersion().join(".")}, ${how}`;
  }

  /** Client URLs of every node, as one comma-separated server list. */
  get servers(): string {
    return this.nodes.map((n) => `nats://127.0.0.1:${n.clientPort}`).join(",");
  }

  urlOf(index: number): string {
    return `nats://127.0.0.1:${this.nodes[index]!.clientPort}`;
  }

  nodeIndex(name: string): number {
    return this.nodes.findIndex((n) => n.name === name);
  }

  /** Starts node `index` (again, on the same store). */
  startNode(index: number): void {
    const node = this.nodes[index]!;
    node.process = spawn(NATS_SERVER_BIN, ["-c", node.config], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    node.process.stderr?.resume();
  }

  /**
   * Starts node `index` again after `kill` and waits until the cluster can place replicated
   * streams and the node has caught up with the meta layer: until then it may answer requests
   * wrongly (see `metaCaughtUp`), and the next test would start on a cluster still healing.
   */
  async restartNode(index: number): Promise<void> {
    const name = this.nodes[index]!.name;
    // nats-server 2.10.27 sometimes leaves a node killed mid-traffic (mostly the meta leader)
    // stuck after its restart: the meta leader counts it behind for good, and requests time out
    // (the next tests' topic and bucket creation; seen in three of four runs of the NATS and
    // server int files on a 2-core machine). Its routes may also cross and be closed (see
    // `start`). A start not fully routed and caught up in time is tried again, which cleared it.
    for (let attempt = 1; ; attempt++) {
      this.startNode(index);
      try {
        const missing = await this.routesMissing(Date.now() + 10_000);
        if (missing.length > 0) throw new Error(`no route ${missing.join(", ")}`);
        await this.ready();
        await this.metaCaughtUp();
        return;
      } catch (error) {
        const why = (error as Error).message;
        if (attempt === 3)
          throw new Error(`nats cluster node ${name}, started ${attempt} times: ${why}`, {
            cause: error,
          });
        console.warn(`NATS node ${name} restarted, but ${why}: restarting it again`);
        await this.kill(index);
      }
    }
  }

  /**
   * Each pair of running nodes not fully routed (as "n1->n2: 2 pooled + 1 system of 4 routes"),
   * once every pair is or `deadline` has passed. A pair is fully routed when each side has its
   * pool of routes to the other and the one pinned to the system account (which JetStream's meta
   * layer and API speak over).
   */
  private async routesMissing(deadline: number): Promise<string[]> {
    const running = this.nodes.filter((n) => n.process !== undefined);
    const expected = ROUTE_POOL_SIZE + 1;
    for (;;) {
      const routes = await Promise.all(
        running.map(async (node) => {
          const response = await fetch(`${this.monitorUrlOf(this.nodes.indexOf(node))}/routez`, {
            signal: AbortSignal.timeout(1000),
          }).catch(() => undefined);
          if (response?.ok !== true) return [];
          return ((await response.json()) as RoutesReport).routes ?? [];
        }),
      );
      const missing = running.flatMap((node, i) =>
        running.flatMap((other) => {
          if (other === node) return [];
          const toOther = routes[i]!.filter((r) => r.remote_name === other.name);
          const pooled = toOther.filter((r) => r.account === undefined).length;
          const system = toOther.filter((r) => r.account === "$SYS").length;
          return pooled === ROUTE_POOL_SIZE && system === 1
            ? []
            : [
                `${node.name}->${other.name}: ${pooled} pooled + ${system} system of ${expected} routes`,
              ];
        }),
      );
      if (missing.length === 0 || Date.now() > deadline) return missing;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** SIGKILLs node `index`: no flush, no goodbye to its peers. */
  async kill(index: number): Promise<void> {
    const child = this.nodes[index]!.process;
    this.nodes[index]!.process = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => {
      child.once("exit", resolve);
      setTimeout(resolve, 5000).unref();
    });
    child.kill("SIGKILL");
    await exited;
  }

  /** SIGSTOPs node `index`: it keeps its connections but handles nothing until `resume`. */
  pause(index: number): void {
    this.nodes[index]!.process?.kill("SIGSTOP");
  }

  /** SIGCONTs node `index` after `pause`. */
  resume(index: number): void {
    this.nodes[index]!.process?.kill("SIGCONT");
  }

  /** The node leading stream `name` and the nodes following it (indexes into this cluster). */
  async placement(name: string): Promise<{ leader: number; followers: number[] }> {
    const nc = await connect({ servers: this.servers.split(",") });
    try {
      const info = await (await jetstreamManager(nc)).streams.info(name);
      return {
        leader: this.nodeIndex(info.cluster?.leader ?? ""),
        followers: (info.cluster?.replicas ?? []).map((r) => this.nodeIndex(r.name)),
      };
    } finally {
      await nc.close();
    }
  }

  /**
   * Waits until JetStream answers on every running node (a meta leader is elected) and, with
   * every node up, until a stream replicated on all of them can be placed.
   */
  async ready(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await this.eachNodeAnswers(deadline);
    if (this.nodes.some((n) => n.process === undefined)) return;
    for (;;) {
      const nc = await connect({ servers: this.urlOf(0), timeout: 1000 });
      try {
        const jsm = await jetstreamManager(nc, { timeout: 2000 });
        await jsm.streams.add({
          name: "READY_PROBE",
          subjects: ["ready.probe"],
          num_replicas: this.nodes.length,
        });
        await jsm.streams.delete("READY_PROBE");
        return;
      } catch (error) {
        if (Date.now() > deadline)
          throw new Error("nats cluster cannot place a replicated stream", { cause: error });
        await new Promise((resolve) => setTimeout(resolve, 200));
      } finally {
        await nc.close();
      }
    }
  }

  private async eachNodeAnswers(deadline: number): Promise<void> {
    for (const [i, node] of this.nodes.entries()) {
      if (node.process === undefined) continue;
      for (;;) {
        try {
          const nc = await connect({ servers: this.urlOf(i), reconnect: false, timeout: 1000 });
          try {
            const jsm = await jetstreamManager(nc, { timeout: 2000 });
            await jsm.getAccountInfo();
            break;
          } finally {
            await nc.close();
          }
        } catch (error) {
          // A server that exited (a bad binary, a port taken meanwhile) will not answer later.
          const { exitCode, signalCode } = node.process;
          if (exitCode !== null || signalCode !== null)
            throw new Error(`nats cluster node ${node.name} exited (${exitCode ?? signalCode})`);
          if (Date.now() > deadline)
            throw new Error(`nats cluster node ${node.name} not ready`, { cause: error });
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
    }
  }

  /** The monitoring endpoint of node `index` (`/varz`, `/jsz`, …). */
  monitorUrlOf(index: number): string {
    return `http://127.0.0.1:${this.nodes[index]!.monitorPort}`;
  }

  /** Node `index`'s JetStream configuration, as its monitoring endpoint reports it. */
  async jetStreamConfig(index: number): Promise<JetStreamConfigReport> {
    const response = await fetch(`${this.monitorUrlOf(index)}/jsz`);
    if (!response.ok) throw new Error(`/jsz of node ${index}: HTTP ${response.status}`);
    return ((await response.json()) as { config: JetStreamConfigReport }).config;
  }

  /**
   * Waits until every running node names the same meta leader and that leader counts every
   * other running node current: after a pause, a resumed node may answer requests wrongly
   * (a stream just made "not found", JetStream "temporarily unavailable") until it has caught up.
   */
  async metaCaughtUp(timeoutMs = 20_000): Promise<void> {
    const running = this.nodes.flatMap((n, i) => (n.process === undefined ? [] : [i]));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const metas = await Promise.all(
        running.map(async (i) => {
          const response = await fetch(`${this.monitorUrlOf(i)}/jsz`).catch(() => undefined);
          if (response?.ok !== true) return undefined;
          return ((await response.json()) as { meta_cluster?: MetaClusterReport }).meta_cluster;
        }),
      );
      const leader = metas[0]?.leader;
      const leaderMeta = metas[running.findIndex((i) => this.nodes[i]!.name === leader)];
      const current = leaderMeta?.replicas?.filter((r) => r.current).length ?? -1;
      if (
        leader !== undefined &&
        metas.every((m) => m?.leader === leader) &&
        current === running.length - 1
      )
        return;
      if (Date.now() > deadline) {
        const seen = running.map((i, k) => {
          const meta = metas[k];
          const current = meta?.replicas?.map((r) => `${r.name}${r.current ? "" : " (behind)"}`);
          return `${this.nodes[i]!.name} names leader ${meta?.leader ?? "none"}${current === undefined ? "" : `, peers ${current.join(", ")}`}`;
        });
        const routes = await this.routesMissing(0);
        throw new Error(
          `nats cluster meta layer did not catch up: ${seen.join("; ")}; ${routes.length === 0 ? "fully routed" : routes.join("; ")}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** The index of the node leading the meta group (where consumers and streams are placed). */
  async metaLeader(): Promise<number> {
    for (const [i, node] of this.nodes.entries()) {
      if (node.process === undefined) continue;
      const response = await fetch(`${this.monitorUrlOf(i)}/jsz`).catch(() => undefined);
      if (response?.ok !== true) continue;
      const meta = ((await response.json()) as { meta_cluster?: MetaClusterReport }).meta_cluster;
      const index = meta?.leader === undefined ? -1 : this.nodeIndex(meta.leader);
      if (index >= 0) return index;
    }
    throw new Error("no running node names a meta leader");
  }

  /**
   * The meta leader, once it only follows stream `name`: while it leads the stream, the stream's
   * leader is asked to step down and a new one awaited (a failover test's "follower that leads
   * the meta group").
   */
  async metaLeaderFollowing(name: string, timeoutMs = 20_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const meta = await this.metaLeader();
      const { leader } = await this.placement(name).catch(() => ({ leader: -1 }));
      if (leader >= 0 && leader !== meta) return meta;
      if (Date.now() > deadline) throw new Error(`stream ${name} stays led by the meta leader`);
      if (leader === meta) {
        const nc = await connect({ servers: this.servers.split(",") });
        await nc.request(`$JS.API.STREAM.LEADER.STEPDOWN.${name}`).catch(() => undefined);
        await nc.close();
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  /** Fails unless every running node reports the flush this cluster was started with. */
  private async checkFlush(): Promise<void> {
    for (const [i, node] of this.nodes.entries()) {
      if (node.process === undefined) continue;
      const syncAlways = (await this.jetStreamConfig(i)).sync_always === true;
      if (syncAlways !== (this.flush === "always"))
        throw new Error(
          `nats cluster node ${node.name} reports sync_always ${syncAlways}, expected flush "${this.flush}"`,
        );
    }
  }

  /**
   * Each node's errors and warnings (the last `maxAlerts`) and the last `lines` it logged: why a
   * cluster did not start, or what it went through when a test on it failed.
   */
  logTails(lines = 8, maxAlerts = 20): string {
    return this.nodes
      .map((node) => {
        const log = join(this.dir, `${node.name}.log`);
        const all = existsSync(log) ? readFileSync(log, "utf8").trimEnd().split("\n") : [];
        const alerts = all
          .slice(0, -lines)
          .filter((line) => /\[(ERR|FTL|WRN)\]/.test(line) && !ROUTE_RETRY.test(line))
          .slice(-maxAlerts);
        const exit = node.process?.exitCode ?? node.process?.signalCode;
        const state = exit === null || exit === undefined ? "" : ` (exited: ${exit})`;
        return [`${node.name}${state}:`, ...alerts, "...", ...all.slice(-lines)].join("\n");
      })
      .join("\n");
  }

  /** Stops every node and removes the stores. */
  async stop(): Promise<void> {
    for (let i = 0; i < this.nodes.length; i++) await this.kill(i);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
