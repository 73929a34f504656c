import type { IncomingMessage } from "node:http";
import { WebSocket } from "ws";
import { ERROR_FIELD_HEADER, SluiceError } from "../errors/index.js";
import { type RemoteError, parseErrorAnswer } from "./http-transport.js";

/** An error answer's body is read up to this; what follows is not needed to say what failed. */
const MAX_ANSWER_BYTES = 64 * 1024;

/** A refused upgrade as a plain Sluice error: the server's code, message and field. */
const remoteSluiceError = (e: RemoteError): Error =>
  new SluiceError(e.code as SluiceError["code"], e.message, {
    ...(e.field === undefined ? {} : { field: e.field }),
    ...(e.details === undefined ? {} : { details: e.details }),
  });

/** Why the server refused a socket's upgrade, once its answer was read (see openWebSocket). */
const refusals = new WeakMap<WebSocket, Error>();

/**
 * Opens a WebSocket to a Sluice server. An upgrade the server answers with an HTTP error (401
 * for a missing or wrong token, 404 for an unknown group, 503 while it shuts down) fails the
 * socket, and `socketFailure` gives the server's own error, read from the answer's JSON body and
 * rebuilt by `toError`, where the socket says only "Unexpected server response: 401".
 */
export function openWebSocket(
  url: string,
  headers: Record<string, string>,
  toError: (error: RemoteError) => Error = remoteSluiceError,
): WebSocket {
  const socket = new WebSocket(url, { headers });
  socket.once("unexpected-response", (_request, response: IncomingMessage) => {
    // Taken now: the answer lets go of its connection once read to its end.
    const connection = response.socket;
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    const refuse = (): void => {
      if (refused) return;
      refused = true;
      const field = response.headers[ERROR_FIELD_HEADER];
      const answer = parseErrorAnswer(
        response.statusCode ?? 0,
        Buffer.concat(chunks).toString("utf8"),
        typeof field === "string" ? field : null,
      );
      refusals.set(socket, toError(answer));
      // The answer was read to its end, so the connection would be kept for another request
      // (and hold the server's close): it is closed, then the handshake failed, which makes
      // the socket emit "error" and "close".
      connection.destroy();
      socket.terminate();
    };
    response.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= MAX_ANSWER_BYTES) refuse();
    });
    response.once("end", refuse);
    response.once("error", refuse);
  });
  return socket;
}

/**
 * What the failure of `socket` means to its caller: the server's refusal of its upgrade (see
 * openWebSocket) as the server said it; anything else (a refused connection, a reset) as
 * SLUICE_IO naming `what` failed.
 */
export function socketFailure(socket: WebSocket, error: Error, what: string): Error {
  return (
    refusals.get(socket) ??
    new SluiceError("SLUICE_IO", `${what} failed: ${error.message}`, { cause: error })
  );
}
