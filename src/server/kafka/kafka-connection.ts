import type { Socket } from "node:net";
import {
  type ApiHandler,
  type ConnectionSession,
  NO_RESPONSE,
  type RequestContext,
} from "./api-handler.js";
import type { ApiTable } from "./api-table.js";
import {
  API_VERSIONS_KEY,
  codecFor,
  requestHeaderCodec,
  responseHeaderCodec,
} from "./protocol/api-codecs.js";
import { FrameDecoder } from "./protocol/frame-decoder.js";
import { KafkaProtocolError } from "./protocol/protocol-error.js";
import { WireReader } from "./protocol/wire-reader.js";
import { WireWriter } from "./protocol/wire-writer.js";

/** Fields of RequestContext that are the same for every request of a connection. */
export type ConnectionContext = Omit<
  RequestContext,
  "apiVersion" | "clientId" | "signal" | "clientHost" | "session"
>;

/** ApiVersions, SaslHandshake and SaslAuthenticate: all a connection may send before SASL succeeds. */
const BEFORE_AUTHENTICATION = new Set([18, 17, 36]);

export interface KafkaConnectionOptions {
  readonly table: ApiTable;
  readonly maxFrameBytes: number;
  readonly context: ConnectionContext;
  /** Told why a connection was closed by the server (bad frame, unknown API, handler failure). */
  readonly onClose?: (reason: Error) => void;
}

/** Requests received but not yet answered before the socket stops reading. */
const MAX_QUEUED_REQUESTS = 32;

/**
 * One client connection. Requests are handled one at a time, in order, as a Kafka broker does,
 * so responses go out in request order. Anything the broker cannot parse closes the connection.
 */
export class KafkaConnection {
  private readonly frames: FrameDecoder;
  private readonly queue: Buffer[] = [];
  private running = false;
  private readonly closed = new AbortController();
  private readonly session: ConnectionSession;

  constructor(
    private readonly socket: Socket,
    private readonly options: KafkaConnectionOptions,
  ) {
    this.frames = new FrameDecoder(options.maxFrameBytes);
    this.session = {
      authenticated: options.context.settings.saslUsers === undefined,
      mechanism: undefined,
      principal: undefined,
      closeAfterResponse: false,
    };
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    socket.on("close", () => this.closed.abort());
    socket.on("error", () => this.closed.abort());
  }

  /** Resolves when the socket has closed. */
  get signal(): AbortSignal {
    return this.closed.signal;
  }

  /** Closes the connection at once. */
  destroy(reason?: Error): void {
    if (reason !== undefined && !this.closed.signal.aborted) this.options.onClose?.(reason);
    this.socket.destroy();
    this.closed.abort();
  }

  private receive(chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = this.frames.push(chunk);
    } catch (error) {
      return this.destroy(error as Error);
    }
    this.queue.push(...frames);
    if (this.queue.length >= MAX_QUEUED_REQUESTS) this.socket.pause();
    if (!this.running) void this.drain();
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0 && !this.closed.signal.aborted) {
        const frame = this.queue.shift()!;
        await this.handle(frame);
        if (this.socket.writableNeedDrain) await this.writable();
        if (this.queue.length < MAX_QUEUED_REQUESTS / 2 && this.socket.isPaused())
          this.socket.resume();
      }
    } catch (error) {
      this.destroy(error instanceof Error ? error : new Error(String(error)));
    } finally {
      this.running = false;
    }
  }

  /** Waits until the socket takes writes again (or closes): a client that stops reading stops its requests. */
  private writable(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.socket.off("drain", done);
        this.closed.signal.removeEventListener("abort", done);
        resolve();
      };
      this.socket.on("drain", done);
      this.closed.signal.addEventListener("abort", done, { once: true });
    });
  }

  private async handle(frame: Buffer): Promise<void> {
    if (frame.length < 8)
      throw new KafkaProtocolError("header", "at least 8 bytes of request header");
    const apiKey = frame.readInt16BE(0);
    const version = frame.readInt16BE(2);
    const handler = this.options.table.get(apiKey);
    if (handler === undefined)
      throw new KafkaProtocolError(
        "header.requestApiKey",
        `an API this broker serves, got ${apiKey}`,
      );
    if (version < handler.minVersion || version > handler.maxVersion) {
      // KIP-511: a client that opened with a newer ApiVersions learns the versions from a v0 body.
      if (apiKey === API_VERSIONS_KEY)
        return this.send(
          frame.readInt32BE(4),
          handler,
          0,
          this.options.table.unsupportedApiVersionsAnswer(),
        );
      throw new KafkaProtocolError(
        "header.requestApiVersion",
        `${handler.schema.name} v${handler.minVersion} to v${handler.maxVersion}, got v${version}`,
      );
    }
    if (!this.session.authenticated && !BEFORE_AUTHENTICATION.has(apiKey))
      throw new KafkaProtocolError(
        "header.requestApiKey",
        `SaslHandshake and SaslAuthenticate before ${handler.schema.name} (this listener requires SASL/PLAIN)`,
      );
    const reader = new WireReader(frame);
    const header = requestHeaderCodec(handler.schema, version).decode(reader);
    const request = codecFor(handler.schema.request, version).decode(reader);
    // Written out, not `{ ...shared, apiVersion, ... }`: Node 20's V8 builds a literal with
    // new fields after a spread on a slow path, about 1 µs and a few hundred bytes a field.
    const shared = this.options.context;
    const context: RequestContext = {
      broker: shared.broker,
      settings: shared.settings,
      backend: shared.backend,
      groups: shared.groups,
      clock: shared.clock,
      apiVersion: version,
      clientHost: this.socket.remoteAddress ?? "",
      clientId: header.clientId as string | null,
      signal: this.closed.signal,
      session: this.session,
    };
    // The table holds rows of many request types; each row's codec made this request for its handler.
    const row = handler as unknown as {
      handle(request: object, context: RequestContext): Promise<object | typeof NO_RESPONSE>;
    };
    const response = await row.handle(request, context);
    if (response === NO_RESPONSE) return;
    this.send(header.correlationId as number, handler, version, response);
    // The answer is flushed, then the connection closes (as Kafka does after a failed authentication).
    if (this.session.closeAfterResponse) {
      this.socket.end();
      this.closed.abort();
    }
  }

  private send(
    correlationId: number,
    handler: ApiHandler<never, object>,
    version: number,
    response: object,
  ): void {
    if (this.closed.signal.aborted) return;
    const writer = new WireWriter(512);
    const setSize = writer.reserveInt32();
    responseHeaderCodec(handler.schema, version).encode(writer, { correlationId });
    codecFor(handler.schema.response, version).encode(writer, response);
    setSize(writer.length - 4);
    const chunks = writer.finish();
    this.socket.cork();
    for (const chunk of chunks) this.socket.write(chunk);
    this.socket.uncork();
  }
}
