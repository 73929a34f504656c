import type { WebSocket } from "ws";

/** A WebSocket frame, parsed: a JSON object (not an array, not null). */
export type JsonFrame = Record<string, unknown>;

/**
 * Hands each frame of `socket` that is a JSON object to `handle`. Anything else (text that is
 * not JSON, `null`, a number, an array) goes to `refuse` as a SyntaxError saying that `what`
 * must be a JSON object, and so does an error thrown by `handle`: a client's frame can fail its
 * own call, never the process (an exception in a socket's message listener would end it, and on
 * a server every other client's connection with it).
 */
export function onJsonFrames(
  socket: WebSocket,
  what: string,
  handle: (frame: JsonFrame) => void,
  refuse: (error: Error) => void,
): void {
  socket.on("message", (data: Buffer) => {
    let frame: unknown;
    try {
      frame = JSON.parse(data.toString("utf8"));
    } catch {
      frame = undefined;
    }
    try {
      if (typeof frame !== "object" || frame === null || Array.isArray(frame))
        throw new SyntaxError(`${what} must be a JSON object`);
      handle(frame as JsonFrame);
    } catch (error) {
      refuse(error instanceof Error ? error : new Error(String(error)));
    }
  });
}

/**
 * Keeps the frames a client sends while its stream is still being set up (a group join, a
 * subscription), for the stream's own listener to have once it is attached: a socket drops
 * frames that arrive with no listener, and a client may send its first credit as soon as the
 * socket opens.
 */
export class EarlyFrames {
  private frames: Buffer[] | undefined = [];
  private readonly keep = (data: Buffer): void => void this.frames?.push(data);

  constructor(private readonly socket: WebSocket) {
    socket.on("message", this.keep);
  }

  /** Stops keeping frames and hands those kept to the listeners attached now, in order. */
  replay(): void {
    this.socket.off("message", this.keep);
    const frames = this.frames ?? [];
    this.frames = undefined;
    for (const data of frames) this.socket.emit("message", data, false);
  }
}
