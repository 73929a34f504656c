import type { WebSocket } from "ws";
import { restError } from "./rest-errors.js";

/**
 * Serves a socket with `serving`; if that fails in a way it did not handle, the client gets an
 * error frame and the socket closes with 1011. A rejection left unhandled would end the
 * process, and every other client's connection with it.
 */
export function closeOnFailure(socket: WebSocket, serving: Promise<void>): void {
  serving.catch((error: unknown) => {
    if (socket.readyState !== socket.OPEN) return;
    socket.send(JSON.stringify({ type: "error", ...restError(error) }));
    socket.close(1011, "stream failed");
  });
}
