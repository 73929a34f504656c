import type { FastifyReply } from "fastify";

/**
 * The requests still open under each shutdown signal. The signal gets one listener that aborts
 * them all, not one listener per request: an AbortSignal keeps its listeners in a list that
 * every add and remove walks, so with a thousand long polls parked each new poll paid for a
 * walk over all the others (the largest JavaScript cost of a long-poll wake-up).
 */
const openUnder = new WeakMap<AbortSignal, Set<AbortController>>();

function openRequests(shutdown: AbortSignal): Set<AbortController> {
  let open = openUnder.get(shutdown);
  if (open === undefined) {
    const requests = new Set<AbortController>();
    shutdown.addEventListener(
      "abort",
      () => {
        for (const request of requests) request.abort();
        requests.clear();
      },
      { once: true },
    );
    openUnder.set(shutdown, requests);
    open = requests;
  }
  return open;
}

/**
 * A signal that aborts when the client goes away before its answer was sent, or when the
 * server shuts down: long polls end early (and empty) instead of holding a message for nobody.
 */
export function requestSignal(reply: FastifyReply, shutdown: AbortSignal): AbortSignal {
  const controller = new AbortController();
  if (shutdown.aborted) {
    controller.abort();
    return controller.signal;
  }
  const open = openRequests(shutdown);
  open.add(controller);
  reply.raw.once("close", () => {
    open.delete(controller);
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}
