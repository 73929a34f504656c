import { randomUUID } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { WebSocket } from "ws";
import type { Notification, PubSubService } from "../../messaging/pubsub/index.js";
import { PubSubError } from "../../messaging/pubsub/index.js";
import { serveCreditStream } from "../credit-stream.js";
import { EarlyFrames } from "../../net/json-frames.js";
import { closeOnFailure } from "../stream-failure.js";
import { restError } from "../rest-errors.js";

type StreamRequest = FastifyRequest<{
  Params: { topic: string };
  Querystring: { FilterPolicy?: string; FilterPolicyScope?: string };
}>;

interface Waiting {
  readonly notification: Notification;
  readonly delivered: () => void;
  readonly failed: (error: Error) => void;
}

/**
 * `GET /pubsub/topics/{topic}/stream` as a WebSocket: the socket is a subscription of the topic
 * (optionally with a FilterPolicy) for as long as it is open, with credit flow control. A
 * delivery completes only once its notification went out on the socket, so a slow client
 * keeps messages in pub/sub's own delivery retries instead of in a growing buffer here; when
 * the socket closes, deliveries still waiting fail and pub/sub retries them as its delivery
 * policy says.
 */
export function registerPubSubStream(
  app: FastifyInstance,
  pubsub: PubSubService,
  shutdown: AbortSignal,
): void {
  app.get(
    "/pubsub/topics/:topic/stream",
    {
      websocket: true,
      schema: {
        tags: ["pub/sub"],
        summary: "Subscribe to a pub/sub topic over a WebSocket (credit flow control)",
        params: {
          type: "object",
          required: ["topic"],
          properties: { topic: { type: "string", minLength: 1 } },
        },
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            FilterPolicy: { type: "string" },
            FilterPolicyScope: { enum: ["MessageAttributes", "MessageBody"] },
          },
        },
      },
    },
    (socket: WebSocket, request: StreamRequest) => {
      closeOnFailure(socket, subscribe(socket, request, pubsub, shutdown));
    },
  );
}

async function subscribe(
  socket: WebSocket,
  request: StreamRequest,
  pubsub: PubSubService,
  shutdown: AbortSignal,
): Promise<void> {
  const early = new EarlyFrames(socket);
  const handlerName = `stream-${randomUUID()}`;
  const waiting: Waiting[] = [];
  let wake: (() => void) | undefined;
  let closed = false;
  pubsub.registerHandler(handlerName, (notification) => {
    if (closed) throw new Error("the subscriber's stream is closed");
    return new Promise<void>((delivered, failed) => {
      waiting.push({ notification, delivered, failed });
      wake?.();
      wake = undefined;
    });
  });
  let subscriptionArn: string;
  try {
    const TopicArn = await arnOf(pubsub, request.params.topic);
    const q = request.query;
    ({ SubscriptionArn: subscriptionArn } = await pubsub.subscribe({
      TopicArn,
      Protocol: "handler",
      Endpoint: handlerName,
      Attributes: {
        ...(q.FilterPolicy === undefined ? {} : { FilterPolicy: q.FilterPolicy }),
        ...(q.FilterPolicyScope === undefined ? {} : { FilterPolicyScope: q.FilterPolicyScope }),
      },
    }));
  } catch (error) {
    closed = true;
    socket.send(JSON.stringify({ type: "error", ...restError(error) }));
    socket.close(1008, "stream refused");
    return;
  }
  socket.send(JSON.stringify({ type: "subscribed", SubscriptionArn: subscriptionArn }));
  await serveCreditStream(
    socket,
    shutdown,
    {
      async pull(max, signal) {
        while (waiting.length === 0 && !signal.aborted) {
          await new Promise<void>((resolve) => {
            wake = resolve;
            signal.addEventListener("abort", () => resolve(), { once: true });
          });
        }
        const taken = waiting.splice(0, max);
        for (const w of taken) w.delivered();
        return taken.map((w) => w.notification);
      },
      async close() {
        closed = true;
        for (const w of waiting.splice(0)) w.failed(new Error("the subscriber's stream closed"));
        await pubsub.unsubscribe({ SubscriptionArn: subscriptionArn }).catch(() => undefined);
      },
    },
    { early },
  );
}

/** The ARN of the pub/sub topic named `name`. */
export async function arnOf(pubsub: PubSubService, name: string): Promise<string> {
  let token: string | undefined;
  do {
    const page = await pubsub.listTopics(token === undefined ? {} : { NextToken: token });
    const found = page.Topics.find((t) => t.TopicArn.endsWith(`:${name}`));
    if (found !== undefined) return found.TopicArn;
    token = page.NextToken;
  } while (token !== undefined);
  throw new PubSubError("NotFound", `topic: no pub/sub topic ${JSON.stringify(name)}`, "topic");
}
