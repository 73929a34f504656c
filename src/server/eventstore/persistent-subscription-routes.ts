import type { FastifyInstance, FastifyRequest } from "fastify";
import type {
  PersistentSubscriptionGroups,
  PersistentSubscriptionSettings,
} from "../../eventstore/index.js";
import { documented } from "../route-schema.js";
import * as schemas from "./persistent-subscription-schemas.js";

type GroupRequest = FastifyRequest<{ Params: { group: string } }>;

/**
 * Persistent subscription groups over REST: create, list, delete, parked events and their
 * replay. Consumers connect over `/persistent-subscriptions/{group}/connect` (a WebSocket).
 */
export function registerPersistentSubscriptionRoutes(
  app: FastifyInstance,
  groups: () => PersistentSubscriptionGroups,
): void {
  const tags = ["event store"];
  app.post(
    "/persistent-subscriptions",
    documented(tags, "Create a persistent subscription group (competing consumers)", {
      body: schemas.create,
    }),
    async (request: FastifyRequest<{ Body: PersistentSubscriptionSettings }>, reply) =>
      reply.status(201).send(await groups().create(request.body)),
  );
  app.get(
    "/persistent-subscriptions",
    documented(tags, "Persistent subscription groups: settings, checkpoint, parked, consumers"),
    async () => ({ groups: await groups().list() }),
  );
  app.delete(
    "/persistent-subscriptions/:group",
    documented(tags, "Delete a group, its checkpoint and its parked events", {
      params: schemas.groupParams,
    }),
    async (request: GroupRequest, reply) => {
      await groups().delete(request.params.group);
      return reply.status(204).send();
    },
  );
  app.get(
    "/persistent-subscriptions/:group/parked",
    documented(tags, "A group's parked events, by sequence number", {
      params: schemas.groupParams,
    }),
    async (request: GroupRequest) => ({ parked: await groups().listParked(request.params.group) }),
  );
  app.post(
    "/persistent-subscriptions/:group/replay-parked",
    documented(tags, "Hand a group's parked events back to its consumers", {
      params: schemas.groupParams,
    }),
    async (request: GroupRequest) => ({
      replayed: await groups().replayParked(request.params.group),
    }),
  );
}
