import { WebSocket } from "ws";
import { SluiceError } from "../errors/index.js";
import { onJsonFrames } from "../net/json-frames.js";
import type { HttpTransport } from "./http-transport.js";
import { openWebSocket, socketFailure } from "./web-socket.js";

interface CallFrame {
  readonly type: "call" | "registered";
  readonly id?: number;
  readonly input?: unknown;
}

/**
 * Handlers of a remote primitive (pub/sub handler subscriptions, bus handler targets) that run
 * in this process: each name is a WebSocket to the server (`<prefix>/<name>`), which sends every
 * call and waits for this side's answer, so a handler that throws fails its delivery and the
 * server retries it as the subscription's or target's policy says.
 */
export class RemoteHandlers<I> {
  private readonly sockets = new Set<WebSocket>();
  private readonly registering = new Set<Promise<void>>();
  private calls = 0;

  constructor(
    private readonly http: HttpTransport,
    private readonly prefix: string,
    private readonly decode: (input: unknown) => I = (input) => input as I,
  ) {}

  /** Handler calls running here (for tests that wait for the network to settle). */
  get running(): number {
    return this.calls;
  }

  /**
   * Starts serving `name` with `handler`; calls made after this one wait for the server to have
   * it (`ready`), so a delivery they cause finds the handler in place.
   */
  register(name: string, handler: (input: I) => void | Promise<void>): void {
    if (typeof name !== "string" || name.length === 0)
      throw new SluiceError("SLUICE_VALIDATION", "name: expected a handler name", {
        field: "name",
      });
    if (typeof handler !== "function")
      throw new SluiceError("SLUICE_VALIDATION", "handler: expected a function", {
        field: "handler",
      });
    const url = this.http.webSocketUrl(`${this.prefix}/${encodeURIComponent(name)}`);
    const socket = openWebSocket(url, this.http.webSocketHeaders);
    this.sockets.add(socket);
    const registered = new Promise<void>((resolve, reject) => {
      socket.once("error", (error) => reject(socketFailure(socket, error, `handler ${name}`)));
      socket.once("close", () =>
        reject(new SluiceError("SLUICE_IO", `handler ${name}: the server closed its socket`)),
      );
      onJsonFrames(
        socket,
        "a handler call",
        (data) => {
          const frame = data as unknown as CallFrame;
          if (frame.type === "registered") resolve();
          else if (frame.type === "call" && typeof frame.id === "number")
            void this.run(socket, frame.id, handler, frame.input);
        },
        () => socket.close(1007, "calls are JSON objects"),
      );
    });
    const pending = registered.finally(() => this.registering.delete(pending));
    this.registering.add(pending);
    // A failed registration surfaces through `ready`, not as an unhandled rejection.
    pending.catch(() => undefined);
    socket.on("close", () => this.sockets.delete(socket));
  }

  /** Resolves once every handler registered so far is in place on the server. */
  async ready(): Promise<void> {
    if (this.registering.size > 0) await Promise.all(this.registering);
  }

  close(): void {
    for (const socket of this.sockets) socket.close(1000, "client closed");
    this.sockets.clear();
  }

  private async run(
    socket: WebSocket,
    id: number,
    handler: (input: I) => void | Promise<void>,
    input: unknown,
  ): Promise<void> {
    this.calls++;
    try {
      let error: string | undefined;
      try {
        await handler(this.decode(input));
      } catch (e) {
        error = e instanceof Error ? e.message : String(e);
      }
      if (socket.readyState === WebSocket.OPEN)
        socket.send(JSON.stringify(error === undefined ? { id } : { id, error }));
    } finally {
      this.calls--;
    }
  }
}
