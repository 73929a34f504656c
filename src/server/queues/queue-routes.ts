import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { PeekedMessage, QueueService } from "../../messaging/queues/index.js";
import { requestSignal } from "../request-signal.js";
import { queueName, schemas } from "./queue-schemas.js";
import { decodeInput, encodeReceive } from "./sqs-json.js";
import { encodeAttribute, type SqsShape } from "./sqs-operations.js";

/** Builds the URL of a queue from its name, as the queue service reports it. */
export type QueueUrlOf = (name: string) => string;

type Body = Record<string, unknown>;
type Named = FastifyRequest<{ Params: { name: string }; Body: Body; Querystring: Body }>;

/**
 * The queue REST API: queues as resources named in the path, request and response bodies in
 * the library's (SQS's) shapes, binary attribute values as base64.
 */
export function registerQueueRoutes(
  app: FastifyInstance,
  queues: QueueService,
  urlOf: QueueUrlOf,
  shutdown: AbortSignal,
): void {
  const tags = ["queues"];
  const route = (summary: string, extra: Record<string, unknown> = {}): { schema: Body } => ({
    schema: { tags, summary, params: queueName, ...extra },
  });
  const url = (request: Named): string => urlOf(request.params.name);

  app.post(
    "/queues",
    {
      schema: {
        tags,
        summary: "Create a queue (or return the existing one)",
        body: schemas.createQueue,
      },
    },
    async (request: FastifyRequest<{ Body: Body }>, reply) =>
      reply.status(201).send(await queues.createQueue(request.body as never)),
  );
  app.get(
    "/queues",
    { schema: { tags, summary: "List queues", querystring: schemas.listQueues } },
    (request: FastifyRequest<{ Querystring: Body }>) => queues.listQueues(request.query as never),
  );
  app.get("/queues/:name", route("The queue's URL"), (request: Named) =>
    queues.getQueueUrl({ QueueName: request.params.name }),
  );
  app.delete("/queues/:name", route("Delete a queue"), async (request: Named, reply) => {
    await queues.deleteQueue({ QueueUrl: url(request) });
    return reply.status(204).send();
  });
  app.get(
    "/queues/:name/attributes",
    route("Queue attributes", { querystring: schemas.attributeNames }),
    (request: Named) => {
      const names = request.query.AttributeNames;
      return queues.getQueueAttributes({
        QueueUrl: url(request),
        ...(typeof names === "string" ? { AttributeNames: names.split(",") as never } : {}),
      });
    },
  );
  app.put(
    "/queues/:name/attributes",
    route("Change queue attributes", { body: schemas.setAttributes }),
    async (request: Named, reply) => {
      await queues.setQueueAttributes({ QueueUrl: url(request), ...request.body } as never);
      return reply.status(204).send();
    },
  );
  app.get("/queues/:name/tags", route("Queue tags"), (request: Named) =>
    queues.listQueueTags({ QueueUrl: url(request) }),
  );
  app.post(
    "/queues/:name/tags",
    route("Add or change tags", { body: schemas.tags }),
    async (request: Named, reply) => {
      await queues.tagQueue({ QueueUrl: url(request), ...request.body } as never);
      return reply.status(204).send();
    },
  );
  app.delete(
    "/queues/:name/tags",
    route("Remove tags", { body: schemas.tagKeys }),
    async (request: Named, reply) => {
      await queues.untagQueue({ QueueUrl: url(request), ...request.body } as never);
      return reply.status(204).send();
    },
  );
  app.post("/queues/:name/purge", route("Delete every message"), async (request: Named, reply) => {
    await queues.purgeQueue({ QueueUrl: url(request) });
    return reply.status(204).send();
  });
  app.get(
    "/queues/:name/dead-letter-sources",
    route("Queues dead-lettering into this one"),
    (request: Named) => queues.listDeadLetterSourceQueues({ QueueUrl: url(request) }),
  );
  app.post(
    "/queues/:name/messages",
    route("Send a message", { body: schemas.send }),
    (request: Named) =>
      queues.sendMessage({
        QueueUrl: url(request),
        ...decodeInput("SendMessage", request.body),
      } as never),
  );
  app.post(
    "/queues/:name/messages/batch",
    route("Send up to 10 messages", { body: schemas.sendBatch }),
    (request: Named) =>
      queues.sendMessageBatch({
        QueueUrl: url(request),
        ...decodeInput("SendMessageBatch", request.body),
      } as never),
  );
  app.get(
    "/queues/:name/messages",
    route("Look at messages without receiving them", { querystring: schemas.peek }),
    async (request: Named) => {
      const { Messages } = await queues.peekMessages({
        QueueUrl: url(request),
        ...request.query,
      });
      return { Messages: Messages.map(encodePeeked) };
    },
  );
  app.post(
    "/queues/:name/receive",
    route("Receive messages (long polling with WaitTimeSeconds)", { body: schemas.receive }),
    async (request: Named, reply: FastifyReply) =>
      encodeReceive(
        (await queues.receiveMessage({
          QueueUrl: url(request),
          ...request.body,
          signal: requestSignal(reply, shutdown),
        })) as unknown as SqsShape,
      ),
  );
  app.post(
    "/queues/:name/delete",
    route("Delete a received message", { body: schemas.receiptHandle }),
    async (request: Named, reply) => {
      await queues.deleteMessage({ QueueUrl: url(request), ...request.body } as never);
      return reply.status(204).send();
    },
  );
  app.post(
    "/queues/:name/delete-batch",
    route("Delete up to 10 received messages", { body: schemas.deleteBatch }),
    (request: Named) =>
      queues.deleteMessageBatch({ QueueUrl: url(request), ...request.body } as never),
  );
  app.post(
    "/queues/:name/visibility",
    route("Change a received message's visibility timeout", { body: schemas.visibility }),
    async (request: Named, reply) => {
      await queues.changeMessageVisibility({ QueueUrl: url(request), ...request.body } as never);
      return reply.status(204).send();
    },
  );
  app.post(
    "/queues/:name/visibility-batch",
    route("Change the visibility of up to 10 messages", { body: schemas.visibilityBatch }),
    (request: Named) =>
      queues.changeMessageVisibilityBatch({ QueueUrl: url(request), ...request.body } as never),
  );
  app.post(
    "/message-move-tasks",
    { schema: { tags, summary: "Move dead letters back (redrive)", body: schemas.startMoveTask } },
    (request: FastifyRequest<{ Body: Body }>) => queues.startMessageMoveTask(request.body as never),
  );
  app.get(
    "/message-move-tasks",
    {
      schema: {
        tags,
        summary: "Move tasks of a dead-letter queue",
        querystring: schemas.listMoveTasks,
      },
    },
    (request: FastifyRequest<{ Querystring: Body }>) =>
      queues.listMessageMoveTasks(request.query as never),
  );
  app.post(
    "/message-move-tasks/cancel",
    { schema: { tags, summary: "Cancel a move task", body: schemas.taskHandle } },
    (request: FastifyRequest<{ Body: Body }>) =>
      queues.cancelMessageMoveTask(request.body as never),
  );
}

function encodePeeked(m: PeekedMessage): unknown {
  return m.MessageAttributes === undefined
    ? m
    : {
        ...m,
        MessageAttributes: Object.fromEntries(
          Object.entries(m.MessageAttributes).map(([n, v]) => [n, encodeAttribute(v)]),
        ),
      };
}
