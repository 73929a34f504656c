import { WebSocket } from "ws";
import { type ErrorCode, SluiceError } from "../errors/index.js";
import { ProducerFencedError, TopicError, type TopicErrorName } from "../messaging/topics/index.js";
import { onJsonFrames } from "../net/json-frames.js";
import type { HttpTransport, RemoteError } from "./http-transport.js";
import { openWebSocket, socketFailure } from "./web-socket.js";

interface Reply {
  readonly type?: string;
  readonly id: number;
  readonly ok?: boolean;
  readonly result?: unknown;
  readonly state?: unknown;
  readonly error?: Omit<RemoteError, "status">;
  readonly event?: string;
  readonly partitions?: unknown;
}

/** Kafka's error names are upper case with underscores; anything else is another Sluice error. */
export function topicError(error: Omit<RemoteError, "status">): Error {
  if (error.name === "PRODUCER_FENCED")
    return new ProducerFencedError(error.message, error.details);
  if (/^[A-Z_]+$/.test(error.name))
    return new TopicError(error.name as TopicErrorName, error.message, error.field, error.details);
  return new SluiceError(error.code as ErrorCode, error.message, {
    ...(error.field === undefined ? {} : { field: error.field }),
    details: { ...error.details, name: error.name },
  });
}

/** JSON has no NaN or Infinity: send them as text, so the server refuses them as it should. */
function keepInvalidNumbers(_key: string, value: unknown): unknown {
  return typeof value === "number" && !Number.isFinite(value) ? String(value) : value;
}

export type ListenerCall = (event: string, partitions: unknown) => Promise<void>;

/**
 * One WebSocket session with the server's `/topics/session`: calls answered in any order by
 * id, listener callbacks from the server run here before the server goes on.
 */
export class TopicSession {
  private readonly socket: WebSocket;
  private readonly opened: Promise<void>;
  private readonly pending = new Map<
    number,
    { resolve: (reply: Reply) => void; reject: (error: Error) => void }
  >();
  private nextId = 0;
  private failure: Error | undefined;
  onListener: ListenerCall | undefined;
  onState: ((state: unknown) => void) | undefined;

  constructor(http: HttpTransport) {
    this.socket = openWebSocket(http.webSocketUrl("/topics/session"), http.webSocketHeaders);
    this.opened = new Promise<void>((resolve, reject) => {
      this.socket.once("open", () => resolve());
      this.socket.once("error", (error) => reject(this.fail(error)));
    });
    this.opened.catch(() => undefined);
    onJsonFrames(
      this.socket,
      "a topic session reply",
      (frame) => this.receive(frame as unknown as Reply),
      (error) => {
        // Not a Sluice server, or not this version of one: the session fails, not the process.
        this.fail(error);
        this.socket.close(1007, "replies are JSON objects");
      },
    );
    this.socket.on("close", () => {
      const error =
        this.failure ??
        new SluiceError("SLUICE_CLOSED", "the topic session with the server closed");
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
    });
  }

  private fail(error: Error): Error {
    this.failure ??= socketFailure(this.socket, error, "topic session");
    return this.failure;
  }

  private receive(reply: Reply): void {
    if (reply.type === "listener") {
      const done = (): void => {
        if (this.socket.readyState === WebSocket.OPEN)
          this.socket.send(JSON.stringify({ type: "listenerDone", id: reply.id }));
      };
      void (this.onListener?.(reply.event ?? "", reply.partitions) ?? Promise.resolve()).then(
        done,
        done,
      );
      return;
    }
    if (reply.state !== undefined) this.onState?.(reply.state);
    const p = this.pending.get(reply.id);
    if (p === undefined) return;
    this.pending.delete(reply.id);
    p.resolve(reply);
  }

  /** Sends a call and resolves with its result (rejects with the primitive's error). */
  async call(op: string, args: unknown[] = [], onId?: (id: number) => void): Promise<unknown> {
    const id = ++this.nextId;
    onId?.(id);
    const reply = await new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.opened.then(
        () => {
          if (this.socket.readyState !== WebSocket.OPEN) {
            this.pending.delete(id);
            reject(this.failure ?? new SluiceError("SLUICE_CLOSED", "the topic session is closed"));
            return;
          }
          this.socket.send(JSON.stringify({ id, op, args }, keepInvalidNumbers));
        },
        (error: Error) => {
          this.pending.delete(id);
          reject(error);
        },
      );
    });
    if (reply.ok === true) return reply.result;
    throw topicError(
      reply.error ?? { code: "SLUICE_INTERNAL", name: "InternalError", message: "no error given" },
    );
  }

  /** Sends a call without waiting for its answer (its failure surfaces on the next call). */
  post(op: string, args: unknown[] = []): void {
    this.call(op, args).catch(() => undefined);
  }

  close(): void {
    this.socket.close();
  }

  /** Drops the connection as a crashed process would (no goodbye to the server). */
  terminate(): void {
    this.socket.terminate();
  }
}
