import type { FastifyReply } from "fastify";

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
  const onShutdown = (): void => controller.abort();
  shutdown.addEventListener("abort", onShutdown, { once: true });
  reply.raw.once("close", () => {
    shutdown.removeEventListener("abort", onShutdown);
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}
