import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import {
  type ConformanceOpenOptions,
  type OpenedStore,
  describeEventStoreConformance,
} from "../eventstore/conformance.js";
import { EmbeddedEventStore } from "../eventstore/embedded-event-store.js";
import { MemoryReadModel } from "../eventstore/projections/memory-read-model.js";
import type { ReadModel } from "../eventstore/projections/projection.js";
import { SluiceServer } from "../server/index.js";
import { connect } from "./connect.js";

/**
 * The event store conformance suite against `connect(url).eventStore`: each store is an
 * embedded one served by its own server on a free port, reached only over HTTP and WebSocket.
 */
const dirs: string[] = [];
const opened = new WeakMap<OpenedStore, { dir: string; close(): Promise<void> }>();

async function serve(dir: string, options: ConformanceOpenOptions): Promise<OpenedStore> {
  const models = new Map<string, ReadModel>();
  const inline = (options.inline ?? []).map((projection) => {
    const readModel = new MemoryReadModel();
    models.set(projection.name, readModel);
    return { projection, readModel };
  });
  const embedded = await EmbeddedEventStore.open(dir, {
    clock: options.clock,
    fsync: "never",
    inline,
    ...(options.schema === undefined ? {} : { eventSchema: options.schema }),
    ...(options.maxEventBytes === undefined ? {} : { maxEventBytes: options.maxEventBytes }),
  });
  const server = await SluiceServer.create({ eventStore: embedded }, { port: 0 });
  const url = await server.listen();
  const remote = connect(url);
  const result: OpenedStore = {
    store: remote.eventStore,
    persistentSubscriptions: () => remote.eventStore.persistentSubscriptions(),
    readModel(name) {
      let model = models.get(name);
      if (model === undefined) {
        model = new MemoryReadModel();
        models.set(name, model);
      }
      return model;
    },
  };
  opened.set(result, {
    dir,
    async close() {
      await remote.close();
      await server.close();
      await embedded.close();
    },
  });
  return result;
}

describeEventStoreConformance({
  name: "remote client",
  open(options) {
    const dir = mkdtempSync(join(tmpdir(), "sluice-remote-es-"));
    dirs.push(dir);
    return serve(dir, options);
  },
  async reopen(store, options) {
    const entry = opened.get(store);
    if (entry === undefined) throw new Error("reopen: not a store this harness opened");
    await entry.close();
    return serve(entry.dir, options);
  },
});

afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
