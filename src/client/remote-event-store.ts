import type { WebSocket } from "ws";
import { type ErrorCode, SluiceError } from "../errors/index.js";
import {
  type EventAppendOptions as AppendOptions,
  type EventAppendResult as AppendResult,
  ConcurrencyError,
  type DeleteStreamOptions,
  type EventData,
  type EventStore,
  type ExpectedVersion,
  ProjectionError,
  type ReadAllOptions,
  type ReadAllResult,
  type ReadStreamOptions,
  type ReadStreamResult,
  type RecordedEvent,
  StreamDeletedError,
  type StreamInfo,
  type StreamMetadata,
  StreamNotFoundError,
  type SubscribeOptions,
} from "../eventstore/index.js";
import {
  checkDirection,
  checkHistory,
  checkExpectedVersion,
  checkMaxCount,
  checkOptionalIndex,
  checkStreamMetadata,
  checkStreamName,
  prepareEvents,
} from "../eventstore/event-validation.js";
import { subscriptionEnd } from "../eventstore/subscription.js";
import { type HttpCall, type HttpTransport, type RemoteError, isAbort } from "./http-transport.js";
import { RemotePersistentSubscriptions } from "./remote-persistent-subscriptions.js";
import { remoteStream } from "./remote-stream.js";

/** A server's error answer rebuilt as the event store's own error classes. */
export function eventStoreError(error: RemoteError): Error {
  const d = error.details ?? {};
  if (error.code === "SLUICE_CONCURRENCY" && typeof d.stream === "string")
    return new ConcurrencyError(d.stream, d.expected as ExpectedVersion, d.actual as number);
  if (error.name === "StreamNotFoundError" && typeof d.stream === "string")
    return new StreamNotFoundError(d.stream);
  if (error.name === "StreamDeletedError" && typeof d.stream === "string")
    return new StreamDeletedError(d.stream);
  if (error.name === "ProjectionError" && typeof d.projection === "string") {
    // The server's message ends with the handler's own message: keep it as the cause.
    const cause = error.message.replace(/^projection .* failed at position \d+: /, "");
    return new ProjectionError(d.projection, d.position as number, new Error(cause));
  }
  return new SluiceError(error.code as ErrorCode, error.message, {
    ...(error.field === undefined ? {} : { field: error.field }),
    details: { ...d, status: error.status, name: error.name },
  });
}

const path = (stream: string): string => `/streams/${encodeURIComponent(stream)}`;

function query(params: Record<string, string | number | boolean | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params))
    if (value !== undefined) search.set(key, String(value));
  const text = search.toString();
  return text === "" ? "" : `?${text}`;
}

/**
 * The event store of a Sluice server behind the `EventStore` interface. Input is checked here
 * with the same rules as the embedded store (so errors name the same fields before anything
 * is sent); subscriptions and persistent subscription consumers are WebSocket streams with
 * credit flow control.
 */
export class RemoteEventStore implements EventStore {
  private closed = false;
  private readonly sockets = new Set<WebSocket>();
  private readonly groups: RemotePersistentSubscriptions;

  constructor(private readonly http: HttpTransport) {
    this.groups = new RemotePersistentSubscriptions({
      call: (call) => this.call(call),
      webSocketUrl: (path) => http.webSocketUrl(path),
      get webSocketHeaders() {
        return http.webSocketHeaders;
      },
      toError: eventStoreError,
      track: (socket) => this.sockets.add(socket),
      untrack: (socket) => this.sockets.delete(socket),
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private call(call: HttpCall): Promise<unknown> {
    if (this.closed)
      return Promise.reject(new SluiceError("SLUICE_CLOSED", "the event store is closed"));
    return this.http.call(call, eventStoreError);
  }

  async appendToStream(
    stream: string,
    events: readonly EventData[],
    options: AppendOptions = {},
  ): Promise<AppendResult> {
    checkStreamName(stream);
    const prepared = prepareEvents(events, Number.MAX_SAFE_INTEGER);
    const expectedVersion = checkExpectedVersion(options.expectedVersion ?? "any");
    return (await this.call({
      method: "POST",
      path: `${path(stream)}/events`,
      body: {
        expectedVersion,
        // Ids are fixed here so that a retried request is stored once.
        events: events.map((e, i) => ({
          ...e,
          id: prepared[i]!.id,
        })),
      },
    })) as AppendResult;
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<ReadStreamResult> {
    checkStreamName(stream);
    checkHistory(options.history, checkDirection(options.direction));
    checkMaxCount(options.maxCount);
    checkOptionalIndex(options.fromVersion, "fromVersion");
    const result = (await this.call({
      method: "GET",
      path: `${path(stream)}/events${query({ ...options })}`,
    })) as ReadStreamResult;
    return { ...result, nextVersion: result.nextVersion };
  }

  async readAll(options: ReadAllOptions = {}): Promise<ReadAllResult> {
    checkDirection(options.direction);
    checkMaxCount(options.maxCount);
    checkOptionalIndex(options.fromPosition, "fromPosition");
    const result = (await this.call({
      method: "GET",
      path: `/all/events${query({
        direction: options.direction,
        fromPosition: options.fromPosition,
        maxCount: options.maxCount,
        includeSystem: options.includeSystem,
        streamPrefixes: options.filter?.streamPrefixes?.join(","),
        types: options.filter?.types?.join(","),
      })}`,
    })) as ReadAllResult;
    return { ...result, nextPosition: result.nextPosition };
  }

  subscribe(options: SubscribeOptions = {}): AsyncIterable<RecordedEvent> {
    if (options.stream !== undefined) checkStreamName(options.stream);
    // "end" is the end when subscribe() is called (as on the other backends): asked for now,
    // and the stream opened after it, so an event appended before iterating is delivered.
    let end: Promise<number> | undefined;
    if (options.after === "end") {
      end = subscriptionEnd(this, options.stream);
      end.catch(() => undefined);
    }
    const open = async function* (this: RemoteEventStore): AsyncGenerator<RecordedEvent> {
      const url = this.http.webSocketUrl(
        `/all/subscribe${query({
          stream: options.stream,
          after: end === undefined ? options.after : await end,
          streamPrefixes: options.filter?.streamPrefixes?.join(","),
          types: options.filter?.types?.join(","),
        })}`,
      );
      yield* remoteStream<RecordedEvent>(url, {
        headers: this.http.webSocketHeaders,
        toError: eventStoreError,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        onOpen: (socket) => this.sockets.add(socket),
        onClose: (socket) => this.sockets.delete(socket),
      });
    };
    return open.call(this);
  }

  async getStreamMetadata(stream: string): Promise<StreamMetadata> {
    checkStreamName(stream);
    return (await this.call({ method: "GET", path: `${path(stream)}/metadata` })) as StreamMetadata;
  }

  async setStreamMetadata(stream: string, metadata: StreamMetadata): Promise<void> {
    checkStreamName(stream);
    checkStreamMetadata(metadata);
    await this.call({ method: "PUT", path: `${path(stream)}/metadata`, body: metadata });
  }

  async deleteStream(stream: string, options: DeleteStreamOptions = {}): Promise<void> {
    checkStreamName(stream);
    if (options.expectedVersion !== undefined) checkExpectedVersion(options.expectedVersion);
    await this.call({
      method: "DELETE",
      path: `${path(stream)}${query({ expectedVersion: options.expectedVersion, hard: options.hard })}`,
    });
  }

  async listStreams(options: { readonly includeSystem?: boolean } = {}): Promise<StreamInfo[]> {
    const result = (await this.call({
      method: "GET",
      path: `/streams${query({ includeSystem: options.includeSystem })}`,
    })) as { streams: StreamInfo[] };
    return result.streams;
  }

  async positionAt(timestampMs: number): Promise<number> {
    const result = (await this.call({
      method: "GET",
      path: `/all/position${query({ timestamp: timestampMs })}`,
    })) as { position: number };
    return result.position;
  }

  async headPosition(): Promise<number> {
    return ((await this.call({ method: "GET", path: "/all/head" })) as { position: number })
      .position;
  }

  async waitForAppend(position: number, signal?: AbortSignal): Promise<void> {
    while (!this.closed && signal?.aborted !== true) {
      try {
        const { position: head } = (await this.call({
          method: "GET",
          path: `/all/wait${query({ position, waitMs: 20_000 })}`,
          ...(signal === undefined ? {} : { signal }),
        })) as { position: number };
        if (head > position) return;
      } catch (error) {
        if (isAbort(error) || this.closed) return;
        throw error;
      }
    }
  }

  /** The server's persistent subscription groups; each consumer is a WebSocket. */
  persistentSubscriptions(): RemotePersistentSubscriptions {
    if (this.closed) throw new SluiceError("SLUICE_CLOSED", "the event store is closed");
    return this.groups;
  }

  close(): Promise<void> {
    this.closed = true;
    for (const socket of this.sockets) socket.close();
    this.sockets.clear();
    return Promise.resolve();
  }
}
