import { WebSocket } from "ws";
import { SluiceError } from "../errors/index.js";
import { onJsonFrames } from "../net/json-frames.js";
import type { RemoteError } from "./http-transport.js";
import { openWebSocket, socketFailure } from "./web-socket.js";

interface Frame {
  readonly type: string;
  readonly items?: unknown[];
  readonly error?: Omit<RemoteError, "status">;
}

export interface RemoteStreamOptions {
  readonly headers?: Record<string, string>;
  /** Items asked for at a time; more are asked for when half are used (default 1000). */
  readonly credit?: number;
  readonly signal?: AbortSignal;
  /** Rebuilds a server's error frame as the primitive's own error. */
  readonly toError: (error: RemoteError) => Error;
  /** Called with the socket once open, so the owner can close it. */
  readonly onOpen?: (socket: WebSocket) => void;
  readonly onClose?: (socket: WebSocket) => void;
}

/**
 * The client half of a credit stream (see the server's serveCreditStream): items one by one
 * as an async iterator, credit granted as they are consumed, so at most `credit` items wait
 * in this process however slowly the caller iterates.
 */
export async function* remoteStream<T>(
  url: string,
  options: RemoteStreamOptions,
): AsyncGenerator<T> {
  const credit = options.credit ?? 1000;
  const socket = openWebSocket(url, options.headers ?? {}, options.toError);
  const buffered: T[] = [];
  let failure: Error | undefined;
  let ended = false;
  let wake: (() => void) | undefined;
  const nudge = (): void => {
    wake?.();
    wake = undefined;
  };
  onJsonFrames(
    socket,
    "a stream frame",
    (data) => {
      const frame = data as unknown as Frame;
      if (frame.type === "batch") buffered.push(...((frame.items ?? []) as T[]));
      else if (frame.type === "error" && frame.error !== undefined)
        failure = options.toError({ status: 400, ...frame.error });
      nudge();
    },
    (error) => {
      failure ??= new SluiceError("SLUICE_IO", `stream ${url} failed: ${error.message}`, {
        cause: error,
      });
      socket.close(1007, "frames are JSON objects");
      nudge();
    },
  );
  socket.on("close", () => {
    ended = true;
    nudge();
  });
  socket.on("error", (error) => {
    failure ??= socketFailure(socket, error, `stream ${url}`);
    nudge();
  });
  const onAbort = (): void => socket.close();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", reject);
      socket.once("close", () => resolve());
    }).catch((error: unknown) => {
      throw socketFailure(socket, error as Error, `stream ${url}`);
    });
    options.onOpen?.(socket);
    if (socket.readyState === WebSocket.OPEN)
      socket.send(JSON.stringify({ type: "credit", count: credit }));
    let used = 0;
    for (;;) {
      if (options.signal?.aborted === true) return;
      const item = buffered.shift();
      if (item !== undefined) {
        yield item;
        if (++used >= credit / 2 && socket.readyState === WebSocket.OPEN) {
          socket.send(JSON.stringify({ type: "credit", count: used }));
          used = 0;
        }
        continue;
      }
      if (failure !== undefined) throw failure;
      if (ended) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    options.onClose?.(socket);
    if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING)
      socket.close();
  }
}
