import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import {
  type DeleteStreamOptions,
  type EventData,
  type EventStore,
  type ExpectedVersion,
  type ProjectionRunner,
  type ReadAllOptions,
  type ReadStreamOptions,
  type StreamMetadata,
  auditTrail,
} from "../../eventstore/index.js";
import { requestSignal } from "../request-signal.js";
import { documented } from "../route-schema.js";
import * as schemas from "./event-store-schemas.js";

type Json = Record<string, unknown>;
type StreamRequest<B = Json, Q = Json> = FastifyRequest<{
  Params: { stream: string };
  Body: B;
  Querystring: Q;
}>;

/** A comma-separated list from a query string, or undefined. */
const list = (text: unknown): string[] | undefined =>
  typeof text === "string" && text.length > 0 ? text.split(",") : undefined;

/**
 * The event store REST API: appends with an expected version, reads of a stream or of `$all`
 * (pages both ways), stream metadata and deletes, the audit trail, and the status of the
 * projections the server was given.
 */
export function registerEventStoreRoutes(
  app: FastifyInstance,
  store: EventStore,
  shutdown: AbortSignal,
  projections: () => readonly ProjectionRunner[],
): void {
  const tags = ["event store"];
  app.get(
    "/streams",
    documented(tags, "List streams", { querystring: schemas.listStreams }),
    async (request: FastifyRequest<{ Querystring: { includeSystem?: boolean } }>) => ({
      streams: await store.listStreams(
        request.query.includeSystem === undefined
          ? {}
          : { includeSystem: request.query.includeSystem },
      ),
    }),
  );
  app.post(
    "/streams/:stream/events",
    documented(tags, "Append events atomically if the stream is at expectedVersion", {
      params: schemas.streamParams,
      body: schemas.append,
    }),
    async (
      request: StreamRequest<{ events: EventData[]; expectedVersion?: ExpectedVersion }>,
      reply,
    ) => {
      const { events, expectedVersion } = request.body;
      const result = await store.appendToStream(
        request.params.stream,
        events,
        expectedVersion === undefined ? {} : { expectedVersion },
      );
      return reply.status(201).send(result);
    },
  );
  app.get(
    "/streams/:stream/events",
    documented(tags, "Read a page of a stream", {
      params: schemas.streamParams,
      querystring: schemas.readStream,
    }),
    (request: StreamRequest<Json, ReadStreamOptions>) =>
      store.readStream(request.params.stream, request.query),
  );
  app.get(
    "/streams/:stream/metadata",
    documented(tags, "A stream's metadata", { params: schemas.streamParams }),
    (request: StreamRequest) => store.getStreamMetadata(request.params.stream),
  );
  app.put(
    "/streams/:stream/metadata",
    documented(tags, "Set a stream's metadata", {
      params: schemas.streamParams,
      body: schemas.streamMetadata,
    }),
    async (request: StreamRequest<StreamMetadata>, reply) => {
      await store.setStreamMetadata(request.params.stream, request.body);
      return reply.status(204).send();
    },
  );
  app.delete(
    "/streams/:stream",
    documented(tags, "Delete a stream (soft, or hard with hard=true)", {
      params: schemas.streamParams,
      querystring: schemas.deleteStream,
    }),
    async (request: StreamRequest<Json, DeleteStreamOptions>, reply) => {
      await store.deleteStream(request.params.stream, request.query);
      return reply.status(204).send();
    },
  );
  app.get(
    "/all/events",
    documented(tags, "Read a page of $all, every event in commit order", {
      querystring: schemas.readAll,
    }),
    (request: FastifyRequest<{ Querystring: Json }>) => {
      const q = request.query;
      const streamPrefixes = list(q.streamPrefixes);
      const types = list(q.types);
      const options: ReadAllOptions = {
        ...(q.direction === undefined ? {} : { direction: q.direction as "forward" }),
        ...(q.fromPosition === undefined ? {} : { fromPosition: q.fromPosition as number }),
        ...(q.maxCount === undefined ? {} : { maxCount: q.maxCount as number }),
        ...(q.includeSystem === undefined ? {} : { includeSystem: q.includeSystem as boolean }),
        ...(streamPrefixes === undefined && types === undefined
          ? {}
          : {
              filter: {
                ...(streamPrefixes === undefined ? {} : { streamPrefixes }),
                ...(types === undefined ? {} : { types }),
              },
            }),
      };
      return store.readAll(options);
    },
  );
  app.get(
    "/all/head",
    documented(tags, "The newest global position (-1 when empty)"),
    async () => ({
      position: await store.headPosition(),
    }),
  );
  app.get(
    "/all/position",
    documented(tags, "The last global position at or before a timestamp (-1 if none)", {
      querystring: schemas.positionAt,
    }),
    async (request: FastifyRequest<{ Querystring: { timestamp: number } }>) => ({
      position: await store.positionAt(request.query.timestamp),
    }),
  );
  app.get(
    "/all/wait",
    documented(tags, "Long poll: answers once the head may be past `position` (or after waitMs)", {
      querystring: schemas.waitForAppend,
    }),
    async (
      request: FastifyRequest<{ Querystring: { position: number; waitMs?: number } }>,
      reply: FastifyReply,
    ) => {
      const signal = AbortSignal.any([
        requestSignal(reply, shutdown),
        AbortSignal.timeout(request.query.waitMs ?? 20_000),
      ]);
      await store.waitForAppend(request.query.position, signal);
      return { position: await store.headPosition() };
    },
  );
  app.get(
    "/audit",
    documented(tags, "Audit trail: who did what, when, for a stream, a type or a time range", {
      querystring: schemas.audit,
    }),
    async (request: FastifyRequest<{ Querystring: Json }>) => ({
      entries: await auditTrail(store, request.query),
    }),
  );
  app.get("/projections", documented(tags, "Projections: state, checkpoint and lag"), async () => {
    const head = await store.headPosition();
    return {
      head,
      projections: projections().map((runner) => {
        const status = runner.status();
        return {
          name: status.name,
          state: status.state,
          checkpoint: status.checkpoint,
          lag: Math.max(0, head - status.checkpoint),
          ...(status.error === undefined
            ? {}
            : { error: { message: status.error.message, position: status.error.position } }),
        };
      }),
    };
  });
}
