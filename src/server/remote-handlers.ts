import { channel } from "node:diagnostics_channel";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { WebSocket } from "ws";
import { onJsonFrames } from "../net/json-frames.js";

/**
 * Published when a remote handler call starts (the input is sent to the client) and ends (its
 * answer came back, or the socket closed): tests that move a virtual clock wait for these to
 * balance, as they wait for HTTP requests.
 */
export const remoteHandlerCalls = {
  started: channel("sluice:remote-handler:started"),
  ended: channel("sluice:remote-handler:ended"),
};

/** What goes to the client: one call of its handler. */
export interface HandlerCallFrame {
  readonly type: "call";
  readonly id: number;
  readonly input: unknown;
}

/** What comes back: the call's outcome. */
export interface HandlerAnswerFrame {
  readonly id: number;
  readonly error?: string;
}

type Handler = (input: unknown) => Promise<void>;

/**
 * `GET {prefix}/:name` as a WebSocket: a client's handler for the primitive's handler
 * subscriptions or targets named `name` (`registerHandler` of the remote client). Each call
 * sends the input and waits for the client's answer, so a handler that fails or a client that
 * goes away fails the delivery, and the primitive retries it as its policy says. `encode`
 * turns an input into JSON the client can rebuild (binary attributes as base64).
 */
export function registerRemoteHandlers(
  app: FastifyInstance,
  options: {
    readonly prefix: string;
    readonly tags: string[];
    readonly register: (name: string, handler: Handler) => void;
    readonly encode?: (input: unknown) => unknown;
    /** Aborted when the server shuts down: the sockets close. */
    readonly shutdown: AbortSignal;
  },
): void {
  const { prefix, register, encode = (input: unknown) => input, shutdown } = options;
  app.get(
    `${prefix}/:name`,
    {
      websocket: true,
      schema: {
        tags: options.tags,
        summary:
          "Run a handler for the handler subscriptions or targets of this name in the client (WebSocket)",
        params: {
          type: "object",
          required: ["name"],
          properties: { name: { type: "string", minLength: 1, maxLength: 256 } },
        },
      },
    },
    (socket: WebSocket, request: FastifyRequest<{ Params: { name: string } }>) => {
      const waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
      let next = 0;
      let open = true;
      const settle = (id: number, error?: Error): void => {
        const call = waiting.get(id);
        if (call === undefined) return;
        waiting.delete(id);
        remoteHandlerCalls.ended.publish(id);
        if (error === undefined) call.resolve();
        else call.reject(error);
      };
      register(request.params.name, (input) => {
        if (!open) return Promise.reject(new Error("the handler's client disconnected"));
        const id = ++next;
        return new Promise<void>((resolve, reject) => {
          waiting.set(id, { resolve, reject });
          remoteHandlerCalls.started.publish(id);
          const frame: HandlerCallFrame = { type: "call", id, input: encode(input) };
          socket.send(JSON.stringify(frame));
        });
      });
      onJsonFrames(
        socket,
        "a handler's answer",
        (frame) => {
          const answer = frame as Partial<HandlerAnswerFrame>;
          if (typeof answer.id !== "number") return;
          settle(
            answer.id,
            answer.error === undefined ? undefined : new Error(String(answer.error)),
          );
        },
        () => socket.close(1007, "answers are JSON objects"),
      );
      socket.on("close", () => {
        open = false;
        for (const id of [...waiting.keys()])
          settle(id, new Error("the handler's client disconnected"));
      });
      const onShutdown = (): void => socket.close(1001, "server shutting down");
      shutdown.addEventListener("abort", onShutdown, { once: true });
      socket.once("close", () => shutdown.removeEventListener("abort", onShutdown));
      socket.send(JSON.stringify({ type: "registered" }));
    },
  );
}
