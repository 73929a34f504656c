import { asError } from "../../errors/index.js";
import type { EventFilter, JsonValue, RecordedEvent } from "../event-store.js";

/** What a projection handler reads and writes: documents by key, buffered until commit. */
export interface ProjectionTransaction {
  get(key: string): Promise<JsonValue | undefined>;
  put(key: string, value: JsonValue): void;
  delete(key: string): void;
}

/** A read model builder: plain object with a name, an optional filter and a handler. */
export interface Projection {
  readonly name: string;
  /** Bump to build the new version beside the old one (blue/green); default 1. */
  readonly version?: number;
  readonly filter?: EventFilter;
  apply(event: RecordedEvent, tx: ProjectionTransaction): void | Promise<void>;
}

/** Writes buffered by a transaction: a value, or null for a delete. */
export type ReadModelWrites = ReadonlyMap<string, JsonValue | null>;

/** The store of one projection's documents plus its checkpoint, committed together. */
export interface ReadModel {
  get(key: string): Promise<JsonValue | undefined>;
  /** Every document, sorted by key. */
  entries(): Promise<[string, JsonValue][]>;
  /** Global position of the last event applied, -1 before any. */
  checkpoint(): Promise<number>;
  /** Applies `writes` and moves the checkpoint atomically: both happen or neither. */
  commit(writes: ReadModelWrites, checkpoint: number): Promise<void>;
  /** Drops every document and the checkpoint (for a rebuild). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** A transaction over `lookup` that keeps its own writes until commit. */
export class BufferedTransaction implements ProjectionTransaction {
  readonly writes = new Map<string, JsonValue | null>();

  constructor(private readonly lookup: (key: string) => Promise<JsonValue | undefined>) {}

  // Not async: a handler awaits this for every event, and an async function returning the
  // lookup's promise would cost extra turns on top of it.
  get(key: string): Promise<JsonValue | undefined> {
    const own = this.writes.get(key);
    if (own !== undefined) return Promise.resolve(own === null ? undefined : own);
    try {
      return this.lookup(key);
    } catch (error) {
      return Promise.reject(asError(error));
    }
  }

  put(key: string, value: JsonValue): void {
    this.writes.set(key, value);
  }

  delete(key: string): void {
    this.writes.set(key, null);
  }
}

/** The name a projection's read model is stored under: `name` for v1, `name@v2` after. */
export function readModelName(projection: Pick<Projection, "name" | "version">): string {
  const version = projection.version ?? 1;
  return version === 1 ? projection.name : `${projection.name}@v${version}`;
}
