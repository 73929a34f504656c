import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EmbeddedEventBus } from "../../messaging/bus/embedded-event-bus.js";
import { EmbeddedPubSubService } from "../../messaging/pubsub/embedded-pubsub-service.js";
import { EmbeddedQueueService } from "../../messaging/queues/index.js";
import { SluiceServer } from "../../server/index.js";
import { RequestTracker, waitForQuietNetwork } from "../../server/test-support/request-tracker.js";
import type { VirtualClock } from "../../time/index.js";
import { type RemoteSluice, connect } from "../connect.js";

/** Embedded queues, pub/sub and bus on one directory, served, and a remote client of them. */
export interface ServedRouting {
  readonly remote: RemoteSluice;
  /** Closes the client, then the embedded services (what a conformance suite's close does). */
  close(): Promise<void>;
}

interface Embedded {
  readonly queues: EmbeddedQueueService;
  readonly pubsub: EmbeddedPubSubService;
  readonly bus: EmbeddedEventBus;
}

/** A proxy that forwards every call to `current()` (one server serves each test's services). */
function delegate<T extends object>(current: () => T | undefined): T {
  return new Proxy({} as T, {
    get(_target, property) {
      const service = current();
      if (service === undefined) throw new Error("no service open");
      const value: unknown = Reflect.get(service, property);
      return typeof value === "function" ? (value as () => unknown).bind(service) : value;
    },
  });
}

/**
 * One server for a test file (building one costs far more than a test), serving whichever
 * embedded services the current test opened, on that test's virtual clock.
 */
export class RoutingServerFixture {
  private readonly tracker = new RequestTracker();
  private readonly dirs: string[] = [];
  private current: Embedded | undefined;
  private server: Promise<SluiceServer> | undefined;

  /** Opens the embedded services on `dir` with `clock`, behind the server, and connects. */
  async open(dir: string, clock: VirtualClock): Promise<ServedRouting> {
    const queues = await EmbeddedQueueService.open(join(dir, "queues"), { clock, fsync: "never" });
    const pubsub = await EmbeddedPubSubService.open(join(dir, "pubsub"), {
      clock,
      queues,
      fsync: "never",
      random: () => 0.5,
    });
    const bus = await EmbeddedEventBus.open(join(dir, "bus"), {
      clock,
      queues,
      topics: pubsub,
      fsync: "never",
      random: () => 0.5,
    });
    this.current = { queues, pubsub, bus };
    const remote = connect(await this.url());
    // Time moves only once every call the client sent has reached the server or come back.
    const removeHook = clock.addSettleHook(() =>
      waitForQuietNetwork(() => remote.pendingCalls, this.tracker),
    );
    let closed = false;
    return {
      remote,
      close: async () => {
        if (closed) return;
        closed = true;
        await remote.close();
        await bus.close();
        await pubsub.close();
        await queues.close();
        await waitForQuietNetwork(() => 0, this.tracker);
        removeHook();
      },
    };
  }

  /**
   * A conformance harness's open, reopen and close over this fixture: `pick` takes the
   * services under test from the remote client, each test on a new directory.
   */
  harness<T extends object>(
    pick: (remote: RemoteSluice) => T,
  ): {
    open(clock: VirtualClock): Promise<T>;
    reopen(services: T, clock: VirtualClock): Promise<T>;
    close(services: T): Promise<void>;
  } {
    const stacks = new WeakMap<T, { dir: string; served: ServedRouting }>();
    const stackOf = (services: T): { dir: string; served: ServedRouting } => {
      const stack = stacks.get(services);
      if (stack === undefined) throw new Error("not services this harness opened");
      return stack;
    };
    const openAt = async (dir: string, clock: VirtualClock): Promise<T> => {
      const served = await this.open(dir, clock);
      const services = pick(served.remote);
      stacks.set(services, { dir, served });
      return services;
    };
    return {
      open: (clock) => {
        const dir = mkdtempSync(join(tmpdir(), "sluice-remote-"));
        this.dirs.push(dir);
        return openAt(dir, clock);
      },
      reopen: async (services, clock) => {
        const { dir, served } = stackOf(services);
        await served.close();
        return openAt(dir, clock);
      },
      close: (services) => stackOf(services).served.close(),
    };
  }

  /** Closes the server and removes every directory the harness made. */
  async close(): Promise<void> {
    await (await this.server)?.close();
    for (const dir of this.dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }

  private async url(): Promise<string> {
    this.server ??= SluiceServer.create(
      {
        queues: delegate(() => this.current?.queues),
        pubsub: delegate(() => this.current?.pubsub),
        bus: delegate(() => this.current?.bus),
      },
      { port: 0, instrument: this.tracker.attach },
    ).then(async (s) => {
      await s.listen();
      return s;
    });
    return (await this.server).url;
  }
}
