import { WebSocket } from "ws";
import { SluiceError } from "../errors/index.js";
import type {
  GroupSettings,
  NackAction,
  ParkedEvent,
  PersistentDelivery,
  PersistentSubscriptionGroups,
  PersistentSubscriptionInfo,
  PersistentSubscriptionSettings,
  ConnectOptions,
} from "../eventstore/persistent/persistent-subscription.js";
import {
  checkGroupSettings,
  checkMaxInFlight,
} from "../eventstore/persistent/persistent-subscriptions.js";
import { nackError } from "../eventstore/persistent/subscription-group.js";
import type { RecordedEvent } from "../eventstore/event-store.js";
import { checkStreamName } from "../eventstore/event-validation.js";
import { onJsonFrames } from "../net/json-frames.js";
import type { HttpCall, RemoteError } from "./http-transport.js";
import { openWebSocket, socketFailure } from "./web-socket.js";

/** A delivery as the server sends it. */
interface DeliveryItem {
  readonly delivery: number;
  readonly event: RecordedEvent;
  readonly retryCount: number;
  readonly replayed: boolean;
}

interface Frame {
  readonly type: string;
  readonly id?: number;
  readonly items?: DeliveryItem[];
  readonly error?: Omit<RemoteError, "status">;
}

/** What the groups need from the event store client that owns them. */
export interface RemoteGroupsTransport {
  call(call: HttpCall): Promise<unknown>;
  webSocketUrl(path: string): string;
  readonly webSocketHeaders: Record<string, string>;
  readonly toError: (error: RemoteError) => Error;
  /** Sockets are registered so that closing the client closes them. */
  track(socket: WebSocket): void;
  untrack(socket: WebSocket): void;
}

const base = (group: string): string => `/persistent-subscriptions/${encodeURIComponent(group)}`;

/**
 * A server's persistent subscription groups behind the library's interface: management over
 * REST, each consumer a WebSocket (`/persistent-subscriptions/{group}/connect`) on which the
 * server pushes up to `maxInFlight` unsettled deliveries and the client settles them. Input is
 * checked here with the library's rules, so errors name the same fields.
 */
export class RemotePersistentSubscriptions implements PersistentSubscriptionGroups {
  constructor(private readonly remote: RemoteGroupsTransport) {}

  async create(settings: PersistentSubscriptionSettings): Promise<GroupSettings> {
    checkGroupSettings(settings);
    return (await this.remote.call({
      method: "POST",
      path: "/persistent-subscriptions",
      body: settings,
    })) as GroupSettings;
  }

  async delete(group: string): Promise<void> {
    checkStreamName(group, "group");
    await this.remote.call({ method: "DELETE", path: base(group) });
  }

  async list(): Promise<PersistentSubscriptionInfo[]> {
    const result = (await this.remote.call({
      method: "GET",
      path: "/persistent-subscriptions",
    })) as {
      groups: PersistentSubscriptionInfo[];
    };
    return result.groups;
  }

  async listParked(group: string): Promise<ParkedEvent[]> {
    checkStreamName(group, "group");
    const result = (await this.remote.call({ method: "GET", path: `${base(group)}/parked` })) as {
      parked: ParkedEvent[];
    };
    return result.parked;
  }

  async replayParked(group: string): Promise<number> {
    checkStreamName(group, "group");
    const result = (await this.remote.call({
      method: "POST",
      path: `${base(group)}/replay-parked`,
    })) as { replayed: number };
    return result.replayed;
  }

  connect(group: string, options: ConnectOptions = {}): AsyncIterable<PersistentDelivery> {
    checkStreamName(group, "group");
    const maxInFlight = checkMaxInFlight(options.maxInFlight);
    const remote = this.remote;
    return {
      [Symbol.asyncIterator]: () => consume(remote, group, maxInFlight, options.signal),
    };
  }
}

async function* consume(
  remote: RemoteGroupsTransport,
  group: string,
  maxInFlight: number,
  signal: AbortSignal | undefined,
): AsyncGenerator<PersistentDelivery, void, undefined> {
  const url = remote.webSocketUrl(`${base(group)}/connect?maxInFlight=${maxInFlight}`);
  const socket = openWebSocket(url, remote.webSocketHeaders, remote.toError);
  const buffered: DeliveryItem[] = [];
  const replies = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  let nextId = 0;
  let failure: Error | undefined;
  let ended = false;
  let wake: (() => void) | undefined;
  const nudge = (): void => {
    wake?.();
    wake = undefined;
  };
  onJsonFrames(
    socket,
    "a subscription frame",
    (data) => {
      const frame = data as unknown as Frame;
      const waiting = frame.id === undefined ? undefined : replies.get(frame.id);
      if (frame.type === "batch") buffered.push(...(frame.items ?? []));
      else if (waiting !== undefined) {
        replies.delete(frame.id!);
        if (frame.type === "reply") waiting.resolve();
        else waiting.reject(remote.toError({ status: 400, ...frame.error! }));
        if (closing && replies.size === 0) socket.close();
      } else if (frame.type === "error" && frame.error !== undefined)
        failure = remote.toError({ status: 400, ...frame.error });
      nudge();
    },
    (error) => {
      failure ??= new SluiceError("SLUICE_IO", `persistent subscription failed: ${error.message}`, {
        cause: error,
      });
      socket.close(1007, "frames are JSON objects");
      nudge();
    },
  );
  socket.on("close", () => {
    ended = true;
    const lost = new SluiceError(
      "SLUICE_IO",
      `the connection to persistent subscription ${group} closed before the server answered`,
    );
    for (const waiting of replies.values()) waiting.reject(lost);
    replies.clear();
    nudge();
  });
  socket.on("error", (error) => {
    failure ??= socketFailure(socket, error, `stream ${url}`);
    nudge();
  });
  const settle = (command: Record<string, unknown>): Promise<void> => {
    // Once the socket is gone the server handed this consumer's events to the others, so a
    // settlement now changes nothing, as with the library's consumers.
    if (socket.readyState !== WebSocket.OPEN || closing) return Promise.resolve();
    const id = ++nextId;
    return new Promise<void>((resolve, reject) => {
      replies.set(id, { resolve, reject });
      socket.send(JSON.stringify({ ...command, id }));
    });
  };
  const toDelivery = (item: DeliveryItem): PersistentDelivery => ({
    event: item.event,
    retryCount: item.retryCount,
    replayed: item.replayed,
    ack: () => settle({ type: "ack", delivery: item.delivery }),
    nack: (action: NackAction, reason?: string) => {
      const error = nackError(action, reason);
      if (error !== undefined) return Promise.reject(error);
      return settle({
        type: "nack",
        delivery: item.delivery,
        action,
        ...(reason === undefined ? {} : { reason }),
      });
    },
  });
  // Settlements sent before the consumer stops are answered first, so their promises tell
  // the truth; the socket closes once none is waiting.
  let closing = false;
  const close = (): void => {
    closing = true;
    if (replies.size === 0) socket.close();
  };
  const onAbort = close;
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", reject);
      socket.once("close", () => resolve());
    }).catch((error: unknown) => {
      throw socketFailure(socket, error as Error, `stream ${url}`);
    });
    remote.track(socket);
    // The group holds this consumer to maxInFlight unsettled events; credit only keeps the
    // server from sending more than the client has room for.
    if (socket.readyState === WebSocket.OPEN)
      socket.send(JSON.stringify({ type: "credit", count: maxInFlight }));
    for (;;) {
      if (signal?.aborted === true) return;
      const item = buffered.shift();
      if (item !== undefined) {
        if (socket.readyState === WebSocket.OPEN)
          socket.send(JSON.stringify({ type: "credit", count: 1 }));
        yield toDelivery(item);
        continue;
      }
      if (failure !== undefined) throw failure;
      if (ended) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    remote.untrack(socket);
    if (socket.readyState === WebSocket.CONNECTING) socket.close();
    else if (socket.readyState === WebSocket.OPEN) close();
  }
}
