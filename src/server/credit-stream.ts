import type { WebSocket } from "ws";
import { type EarlyFrames, onJsonFrames } from "../net/json-frames.js";
import { restError } from "./rest-errors.js";

/** Where a stream's items come from: `pull` waits for at least one, or for the signal. */
export interface StreamSource {
  /** Up to `max` items (JSON-ready), waiting while there are none; [] when `signal` aborts. */
  pull(max: number, signal: AbortSignal): Promise<readonly unknown[]>;
  /** A client command other than credit (commit, ack, …); its answer, if any, is sent back. */
  command?(command: Record<string, unknown>): Promise<unknown>;
  /** Releases what the source holds (a consumer, a handler). */
  close?(): Promise<void>;
}

export interface CreditStreamOptions {
  /** Most items per frame (default 1000). */
  readonly maxBatch?: number;
  /** Bytes sent but not yet handed to the kernel before the stream stops pulling (default 1 MiB). */
  readonly highWaterBytes?: number;
  /** Frames the client sent while the stream was being set up, taken as if sent now. */
  readonly early?: EarlyFrames;
}

/**
 * Serves `source` on a WebSocket with credit flow control, the one protocol of every Sluice
 * stream. The client sends `{"type":"credit","count":n}` to take up to n more items; the
 * server sends `{"type":"batch","items":[…]}` frames only while it has credit and while less
 * than `highWaterBytes` sits unsent in the socket. A slow client therefore holds items back
 * in the source (a log, a queue, a delivery retry), never in a buffer that grows in memory.
 * Other commands go to `source.command`, answered as `{"type":"reply","id":…,"result":…}`.
 */
export async function serveCreditStream(
  socket: WebSocket,
  shutdown: AbortSignal,
  source: StreamSource,
  options: CreditStreamOptions = {},
): Promise<void> {
  const maxBatch = options.maxBatch ?? 1000;
  const highWater = options.highWaterBytes ?? 1024 * 1024;
  const stop = new AbortController();
  const onShutdown = (): void => {
    stop.abort();
    socket.close(1001, "server shutting down");
  };
  if (shutdown.aborted) onShutdown();
  else shutdown.addEventListener("abort", onShutdown, { once: true });
  let credit = 0;
  let unsentBytes = 0;
  let wake: (() => void) | undefined;
  const nudge = (): void => {
    wake?.();
    wake = undefined;
  };
  const send = (frame: unknown): void => {
    if (socket.readyState !== socket.OPEN) return;
    const text = JSON.stringify(frame);
    unsentBytes += text.length;
    socket.send(text, () => {
      unsentBytes -= text.length;
      nudge();
    });
  };
  const fail = (error: unknown, id?: unknown): void =>
    send({ type: "error", ...(id === undefined ? {} : { id }), ...restError(error) });
  onJsonFrames(
    socket,
    "a stream command",
    (command) => {
      if (command.type === "credit") {
        const count = command.count;
        if (typeof count !== "number" || !Number.isSafeInteger(count) || count < 1)
          return fail(new SyntaxError("credit: count must be an integer >= 1"));
        credit += count;
        return nudge();
      }
      if (source.command === undefined)
        return fail(new SyntaxError(`unknown stream command ${JSON.stringify(command.type)}`));
      source.command(command).then(
        (result) => send({ type: "reply", id: command.id, result: result ?? null }),
        (error: unknown) => fail(error, command.id),
      );
    },
    fail,
  );
  socket.on("close", () => {
    stop.abort();
    nudge();
  });
  // Closed while the stream was being set up: the close event came and went.
  if (socket.readyState !== socket.OPEN) stop.abort();
  options.early?.replay();
  try {
    while (!stop.signal.aborted) {
      if (credit === 0 || unsentBytes >= highWater) {
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      const items = await source.pull(Math.min(credit, maxBatch), stop.signal);
      if (items.length === 0) continue;
      credit -= items.length;
      send({ type: "batch", items });
    }
  } catch (error) {
    fail(error);
    socket.close(1011, "stream failed");
  } finally {
    shutdown.removeEventListener("abort", onShutdown);
    stop.abort();
    await source.close?.();
  }
}
