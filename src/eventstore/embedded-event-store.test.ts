import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import {
  type ConformanceOpenOptions,
  type OpenedStore,
  describeEventStoreConformance,
} from "./conformance.js";
import { EmbeddedEventStore } from "./embedded-event-store.js";
import { MemoryReadModel } from "./projections/memory-read-model.js";
import type { ReadModel } from "./projections/projection.js";

const dirs: string[] = [];
const dirOf = new WeakMap<OpenedStore, string>();

async function openAt(dir: string, options: ConformanceOpenOptions): Promise<OpenedStore> {
  const models = new Map<string, ReadModel>();
  const inline = (options.inline ?? []).map((projection) => {
    const readModel = new MemoryReadModel();
    models.set(projection.name, readModel);
    return { projection, readModel };
  });
  const store = await EmbeddedEventStore.open(dir, {
    clock: options.clock,
    fsync: "never",
    inline,
    ...(options.schema === undefined ? {} : { eventSchema: options.schema }),
    ...(options.maxEventBytes === undefined ? {} : { maxEventBytes: options.maxEventBytes }),
  });
  const opened: OpenedStore = {
    store,
    persistentSubscriptions: () => store.persistentSubscriptions(),
    readModel(name) {
      let model = models.get(name);
      if (model === undefined) {
        model = new MemoryReadModel();
        models.set(name, model);
      }
      return model;
    },
  };
  dirOf.set(opened, dir);
  return opened;
}

describeEventStoreConformance({
  name: "embedded",
  open(options) {
    const dir = mkdtempSync(join(tmpdir(), "sluice-es-"));
    dirs.push(dir);
    return openAt(dir, options);
  },
  async reopen(opened, options) {
    const dir = dirOf.get(opened);
    if (dir === undefined) throw new Error("reopen: not a store this harness opened");
    await opened.store.close();
    return openAt(dir, options);
  },
});

afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
