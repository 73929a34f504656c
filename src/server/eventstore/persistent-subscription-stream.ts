import type { FastifyInstance, FastifyRequest } from "fastify";
import type { WebSocket } from "ws";
import type {
  NackAction,
  PersistentDelivery,
  PersistentSubscriptionGroups,
} from "../../eventstore/index.js";
import { nackError } from "../../eventstore/persistent/subscription-group.js";
import { serveCreditStream } from "../credit-stream.js";
import * as schemas from "./persistent-subscription-schemas.js";
import { closeOnFailure } from "../stream-failure.js";

type ConnectRequest = FastifyRequest<{
  Params: { group: string };
  Querystring: { maxInFlight?: number };
}>;

/**
 * `GET /persistent-subscriptions/{group}/connect` as a WebSocket: one competing consumer of the
 * group for as long as the socket is open. Deliveries go out as credit stream items
 * `{delivery, event, retryCount, replayed}`; the client settles each with
 * `{"type":"ack","id":n,"delivery":d}` or `{"type":"nack","id":n,"delivery":d,"action":…,"reason":…}`,
 * answered once the settlement is durable. The group hands this consumer at most `maxInFlight`
 * unsettled events, so that is also the most a slow client can have waiting; a socket that
 * closes hands its unsettled events to the other consumers.
 */
export function registerPersistentSubscriptionStream(
  app: FastifyInstance,
  groups: () => PersistentSubscriptionGroups,
  shutdown: AbortSignal,
): void {
  app.get(
    "/persistent-subscriptions/:group/connect",
    {
      websocket: true,
      schema: {
        tags: ["event store"],
        summary: "Consume a persistent subscription group over a WebSocket (ack / nack)",
        params: schemas.groupParams,
        querystring: schemas.connect,
      },
    },
    (socket: WebSocket, request: ConnectRequest) => {
      closeOnFailure(
        socket,
        consume(socket, groups(), request.params.group, request.query.maxInFlight, shutdown),
      );
    },
  );
}

async function consume(
  socket: WebSocket,
  groups: PersistentSubscriptionGroups,
  group: string,
  maxInFlight: number | undefined,
  shutdown: AbortSignal,
): Promise<void> {
  const consumer = new AbortController();
  let iterator: AsyncIterator<PersistentDelivery> | undefined;
  // Deliveries sent and not yet settled by the client, by the id it settles them with.
  const unsettled = new Map<number, PersistentDelivery>();
  let sent = 0;
  await serveCreditStream(socket, shutdown, {
    async pull(_max, signal) {
      if (signal.aborted) return [];
      if (iterator === undefined) {
        // The stream's signal is the same on every pull: it ends the consumer once.
        signal.addEventListener("abort", () => consumer.abort(), { once: true });
        const deliveries = groups.connect(group, {
          signal: consumer.signal,
          ...(maxInFlight === undefined ? {} : { maxInFlight }),
        });
        iterator = deliveries[Symbol.asyncIterator]();
      }
      const next = await iterator.next();
      if (next.done === true) {
        // The group stopped (deleted, or the store closing): end the stream, and do not spin.
        socket.close(1000, "persistent subscription ended");
        if (!signal.aborted)
          await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
        return [];
      }
      const delivery = next.value;
      unsettled.set(++sent, delivery);
      return [
        {
          delivery: sent,
          event: delivery.event,
          retryCount: delivery.retryCount,
          replayed: delivery.replayed,
        },
      ];
    },
    async command(command) {
      const id = command.delivery;
      if (command.type === "nack") {
        const error = nackError(command.action, command.reason);
        if (error !== undefined) throw error;
      } else if (command.type !== "ack")
        throw new SyntaxError(`unknown stream command ${JSON.stringify(command.type)}`);
      const delivery = typeof id === "number" ? unsettled.get(id) : undefined;
      // An unknown id was settled before: settling again changes nothing, as in the library.
      if (delivery === undefined) return null;
      unsettled.delete(id as number);
      if (command.type === "ack") await delivery.ack();
      else await delivery.nack(command.action as NackAction, command.reason as string | undefined);
      return null;
    },
    async close() {
      consumer.abort();
      await iterator?.return?.();
    },
  });
}
