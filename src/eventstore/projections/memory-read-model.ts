import type { JsonValue } from "../event-store.js";
import type { ReadModel, ReadModelWrites } from "./projection.js";

/** A read model held in memory: fastest, rebuilt from the log after a restart. */
export class MemoryReadModel implements ReadModel {
  private readonly documents = new Map<string, JsonValue>();
  private position = -1;

  get(key: string): Promise<JsonValue | undefined> {
    return Promise.resolve(this.documents.get(key));
  }

  /** Synchronous read, for callers that hold the model directly. */
  getSync(key: string): JsonValue | undefined {
    return this.documents.get(key);
  }

  entries(): Promise<[string, JsonValue][]> {
    return Promise.resolve([...this.documents].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  checkpoint(): Promise<number> {
    return Promise.resolve(this.position);
  }

  commit(writes: ReadModelWrites, checkpoint: number): Promise<void> {
    for (const [key, value] of writes)
      if (value === null) this.documents.delete(key);
      else this.documents.set(key, value);
    this.position = checkpoint;
    return Promise.resolve();
  }

  reset(): Promise<void> {
    this.documents.clear();
    this.position = -1;
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
