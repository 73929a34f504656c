import { afterAll, describe, it } from "vitest";
import {
  type ConformanceOpenOptions,
  type OpenedStore,
  describeEventStoreConformance,
} from "../../eventstore/conformance.js";
import { PostgresEventStore } from "./postgres-event-store.js";
import {
  TEST_POSTGRES_URL,
  dropSchemas,
  postgresUnavailable,
  uniqueSchema,
} from "./test-support.js";

const unavailable = await postgresUnavailable();
const schemas: string[] = [];
const schemaOf = new WeakMap<OpenedStore, string>();

async function openIn(schema: string, options: ConformanceOpenOptions): Promise<OpenedStore> {
  const store = await PostgresEventStore.open({
    connection: TEST_POSTGRES_URL,
    schema,
    clock: options.clock,
    poolSize: 12,
    ...(options.inline === undefined ? {} : { inline: options.inline }),
    ...(options.schema === undefined ? {} : { eventSchema: options.schema }),
    ...(options.maxEventBytes === undefined ? {} : { maxEventBytes: options.maxEventBytes }),
  });
  const opened: OpenedStore = {
    store,
    readModel: (name) => store.readModel(name),
    persistentSubscriptions: () => store.persistentSubscriptions(),
  };
  schemaOf.set(opened, schema);
  return opened;
}

if (unavailable === undefined) {
  describeEventStoreConformance({
    name: "postgres",
    open(options) {
      const schema = uniqueSchema();
      schemas.push(schema);
      return openIn(schema, options);
    },
    async reopen(opened, options) {
      const schema = schemaOf.get(opened);
      if (schema === undefined) throw new Error("reopen: not a store this harness opened");
      await opened.store.close();
      return openIn(schema, options);
    },
  });
} else {
  describe("EventStore conformance: postgres", () => {
    it.skip(`skipped: ${unavailable}`, () => undefined);
  });
}

afterAll(async () => {
  await dropSchemas(schemas.splice(0));
});
