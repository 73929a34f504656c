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

  async close(): Promise<void> {
    await (await this.server)?.close();
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
