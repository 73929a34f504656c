import type { FastifyInstance, FastifyRequest } from "fastify";
import type { WebSocket } from "ws";
import {
  type EventFilter,
  type EventStore,
  type RecordedEvent,
  StreamNotFoundError,
} from "../../eventstore/index.js";
import { serveCreditStream } from "../credit-stream.js";
import { EarlyFrames } from "../../net/json-frames.js";
import { closeOnFailure } from "../stream-failure.js";

interface SubscribeQuery {
  stream?: string;
  after?: number | "end";
  streamPrefixes?: string;
  types?: string;
}

type SubscribeRequest = FastifyRequest<{ Querystring: SubscribeQuery }>;

const list = (text: string | undefined): string[] | undefined =>
  text === undefined || text.length === 0 ? undefined : text.split(",");

/**
 * `GET /all/subscribe` as a WebSocket: a catch-up then live subscription to one stream (`stream`)
 * or to `$all` (narrowed by `streamPrefixes` and `types`), starting after `after` (a version,
 * a position, or "end"), with credit flow control. The server reads pages from where the
 * client is and waits for appends when it is caught up, so a slow client costs a cursor, not
 * a buffer.
 */
export function registerEventStoreStream(
  app: FastifyInstance,
  store: EventStore,
  shutdown: AbortSignal,
): void {
  app.get(
    "/all/subscribe",
    {
      websocket: true,
      schema: {
        tags: ["event store"],
        summary: "Subscribe to a stream or $all over a WebSocket (catch-up, then live)",
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            stream: { type: "string", minLength: 1 },
            after: { anyOf: [{ type: "integer", minimum: -1 }, { const: "end" }] },
            streamPrefixes: { type: "string", description: "comma-separated" },
            types: { type: "string", description: "comma-separated" },
          },
        },
      },
    },
    (socket: WebSocket, request: SubscribeRequest) => {
      closeOnFailure(socket, subscribe(socket, request.query, store, shutdown));
    },
  );
}

async function subscribe(
  socket: WebSocket,
  q: SubscribeQuery,
  store: EventStore,
  shutdown: AbortSignal,
): Promise<void> {
  const early = new EarlyFrames(socket);
  const streamPrefixes = list(q.streamPrefixes);
  const types = list(q.types);
  const filter: EventFilter = {
    ...(streamPrefixes === undefined ? {} : { streamPrefixes }),
    ...(types === undefined ? {} : { types }),
  };
  // The next version (one stream) or global position ($all) to read.
  let next: number;
  if (q.after === "end")
    next =
      q.stream === undefined
        ? (await store.headPosition()) + 1
        : (await streamVersion(store, q.stream)) + 1;
  else next = (q.after ?? -1) + 1;
  const typeSet = types === undefined ? undefined : new Set(types);
  await serveCreditStream(
    socket,
    shutdown,
    {
      async pull(max, signal) {
        while (!signal.aborted) {
          const head = await store.headPosition();
          let events: RecordedEvent[];
          if (q.stream === undefined) {
            const page = await store.readAll({ fromPosition: next, maxCount: max, filter });
            events = page.events;
            // At the end of $all everything up to `head` (read before the page) was scanned.
            const last = events[events.length - 1]?.position ?? -1;
            next = page.nextPosition ?? Math.max(next, head + 1, last + 1);
          } else {
            events = await readStreamFrom(store, q.stream, next, max);
            if (events.length > 0) next = events[events.length - 1]!.version + 1;
            if (typeSet !== undefined) events = events.filter((e) => typeSet.has(e.type));
          }
          if (events.length > 0) return events;
          await store.waitForAppend(head, signal);
        }
        return [];
      },
    },
    { early },
  );
}

async function streamVersion(store: EventStore, stream: string): Promise<number> {
  try {
    return (await store.readStream(stream, { direction: "backward", maxCount: 1 })).streamVersion;
  } catch (error) {
    if (error instanceof StreamNotFoundError) return -1;
    throw error;
  }
}

async function readStreamFrom(
  store: EventStore,
  stream: string,
  fromVersion: number,
  max: number,
): Promise<RecordedEvent[]> {
  try {
    return (await store.readStream(stream, { fromVersion, maxCount: max })).events;
  } catch (error) {
    if (error instanceof StreamNotFoundError) return [];
    throw error;
  }
}
