import type { FastifyInstance, FastifyRequest } from "fastify";
import type { WebSocket } from "ws";
import type { QueueService } from "../../messaging/queues/index.js";
import { onJsonFrames } from "../../net/json-frames.js";
import { closeOnFailure } from "../stream-failure.js";
import { restError } from "../rest-errors.js";
import { encodeReceive } from "./sqs-json.js";
import type { QueueUrlOf } from "./queue-routes.js";

/** Sends in flight on one socket before the stream waits for them to leave (bytes stay bounded). */
const MAX_PENDING_SENDS = 64;

type StreamRequest = FastifyRequest<{
  Params: { name: string };
  Querystring: Record<string, string>;
}>;

/**
 * `GET /queues/{name}/stream` as a WebSocket: a consumer that receives by long polling for its
 * client, with credit flow control. The client sends `{"type":"credit","count":n}` to take
 * up to n more messages, and `{"type":"delete","ReceiptHandle":"..."}` when done with one; the
 * server sends `{"type":"message","message":{...}}` only while it has credit, so a slow client
 * holds messages back in the queue (where their visibility timeout still protects them)
 * instead of in an unbounded buffer.
 */
export function registerQueueStream(
  app: FastifyInstance,
  queues: QueueService,
  urlOf: QueueUrlOf,
  shutdown: AbortSignal,
): void {
  app.get(
    "/queues/:name/stream",
    {
      websocket: true,
      schema: {
        tags: ["queues"],
        summary: "Consume a queue over a WebSocket with credit flow control",
        params: { type: "object", properties: { name: { type: "string" } } },
        querystring: {
          type: "object",
          properties: {
            VisibilityTimeout: { type: "integer" },
            MessageAttributeNames: { type: "string", description: "comma-separated" },
            MessageSystemAttributeNames: { type: "string", description: "comma-separated" },
          },
        },
      },
    },
    (socket: WebSocket, request: StreamRequest) => {
      closeOnFailure(
        socket,
        consume(socket, request, queues, urlOf(request.params.name), shutdown),
      );
    },
  );
}

async function consume(
  socket: WebSocket,
  request: StreamRequest,
  queues: QueueService,
  QueueUrl: string,
  shutdown: AbortSignal,
): Promise<void> {
  const stop = new AbortController();
  const onShutdown = (): void => {
    stop.abort();
    socket.close(1001, "server shutting down");
  };
  shutdown.addEventListener("abort", onShutdown, { once: true });
  let credit = 0;
  let pendingSends = 0;
  let wake: (() => void) | undefined;
  const nudge = (): void => {
    wake?.();
    wake = undefined;
  };
  const fail = (error: unknown): void => {
    if (socket.readyState === socket.OPEN)
      socket.send(JSON.stringify({ type: "error", ...restError(error) }));
  };
  onJsonFrames(
    socket,
    "a stream command",
    (c) => {
      if (c.type === "credit" && Number.isSafeInteger(c.count) && (c.count as number) > 0) {
        credit += c.count as number;
        nudge();
      } else if (c.type === "delete" && typeof c.ReceiptHandle === "string")
        queues.deleteMessage({ QueueUrl, ReceiptHandle: c.ReceiptHandle }).catch(fail);
      else fail(new SyntaxError(`unknown stream command ${JSON.stringify(c).slice(0, 100)}`));
    },
    fail,
  );
  socket.on("close", () => {
    stop.abort();
    nudge();
  });
  // A queue that does not exist is refused at once, as a topic stream refuses one, rather than
  // when the client first gives credit.
  try {
    await queues.getQueueAttributes({ QueueUrl, AttributeNames: ["QueueArn"] });
  } catch (error) {
    shutdown.removeEventListener("abort", onShutdown);
    fail(error);
    socket.close(1008, "stream refused");
    return;
  }
  const q = request.query;
  const list = (text: string | undefined): string[] | undefined => text?.split(",");
  const names = list(q.MessageAttributeNames);
  const systemNames = list(q.MessageSystemAttributeNames);
  try {
    while (!stop.signal.aborted) {
      if (credit === 0 || pendingSends >= MAX_PENDING_SENDS) {
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      const { Messages } = await queues.receiveMessage({
        QueueUrl,
        // No more than the sends left under the limit: a receive never takes the socket past it.
        MaxNumberOfMessages: Math.min(10, credit, MAX_PENDING_SENDS - pendingSends),
        WaitTimeSeconds: 20,
        ...(q.VisibilityTimeout === undefined
          ? {}
          : { VisibilityTimeout: Number(q.VisibilityTimeout) }),
        ...(names === undefined ? {} : { MessageAttributeNames: names }),
        ...(systemNames === undefined ? {} : { MessageSystemAttributeNames: systemNames as never }),
        signal: stop.signal,
      });
      const encoded = (encodeReceive({ Messages }) as { Messages?: unknown[] }).Messages ?? [];
      for (const message of encoded) {
        credit--;
        pendingSends++;
        socket.send(JSON.stringify({ type: "message", message }), () => {
          pendingSends--;
          nudge();
        });
      }
    }
  } catch (error) {
    fail(error);
    socket.close(1011, "stream failed");
  } finally {
    shutdown.removeEventListener("abort", onShutdown);
  }
}
