import type { FastifyInstance, FastifyRequest } from "fastify";
import { remoteHandlerCalls } from "../remote-handlers.js";

/**
 * Counts the requests a server is handling: from the moment the handler runs until the
 * answer is handed to the socket or the client goes away.
 */
export class RequestTracker {
  private readonly open = new Set<FastifyRequest>();
  /** Calls of client-side handlers waiting for their answer (remote-handlers.ts). */
  private handlerCalls = 0;

  constructor() {
    remoteHandlerCalls.started.subscribe(() => this.handlerCalls++);
    remoteHandlerCalls.ended.subscribe(() => this.handlerCalls--);
  }

  /** Requests being handled, and handler calls sent to a client and not yet answered. */
  get openRequests(): number {
    return this.open.size + this.handlerCalls;
  }

  /** Installs the hooks; pass as the server's `instrument` option. */
  attach = (app: FastifyInstance): void => {
    app.addHook("preHandler", (request, _reply, done) => {
      // A WebSocket upgrade is no call waiting for an answer: what runs over it counts itself.
      if ((request as { ws?: boolean }).ws !== true) this.open.add(request);
      done();
    });
    app.addHook("onSend", (request, _reply, payload, done) => {
      this.open.delete(request);
      done(null, payload);
    });
    app.addHook("onRequestAbort", (request, done) => {
      this.open.delete(request);
      done();
    });
  };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Waits until the network between a client and a server in this process is quiet: every call
 * the client has pending is being handled by the server (a parked long poll), none is on its
 * way there or back. Virtual-clock tests call it before time moves, so a request reaches the
 * server at the virtual time it was sent, and an answer arrives before the test looks for it.
 */
export async function waitForQuietNetwork(
  pendingCalls: () => number,
  tracker: RequestTracker,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let quietTurns = 0;
  while (quietTurns < 2) {
    await turn();
    quietTurns = pendingCalls() === tracker.openRequests ? quietTurns + 1 : 0;
    if (Date.now() > deadline)
      throw new Error(
        `the network never settled: ${pendingCalls()} calls pending, ${tracker.openRequests} being handled`,
      );
  }
}
