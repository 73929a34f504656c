import { SluiceError } from "../errors/index.js";
import type { ExpectedVersion } from "./event-store.js";

/** An append or delete whose `expectedVersion` did not match the stream (SLUICE_CONCURRENCY). */
export class ConcurrencyError extends SluiceError {
  constructor(
    readonly stream: string,
    readonly expected: ExpectedVersion,
    /** The stream's version when the append arrived; -1 when it had no events. */
    readonly actual: number,
  ) {
    super(
      "SLUICE_CONCURRENCY",
      `stream ${JSON.stringify(stream)}: expected version ${String(expected)}, actual ${actual}`,
      { field: "expectedVersion", details: { stream, expected, actual } },
    );
  }
}

/** A read of a stream that does not exist or was soft-deleted (SLUICE_NOT_FOUND). */
export class StreamNotFoundError extends SluiceError {
  constructor(readonly stream: string) {
    super("SLUICE_NOT_FOUND", `stream ${JSON.stringify(stream)} does not exist`, {
      field: "stream",
      details: { stream },
    });
  }
}

/** Any operation on a hard-deleted (tombstoned) stream (SLUICE_STREAM_DELETED). */
export class StreamDeletedError extends SluiceError {
  constructor(readonly stream: string) {
    super("SLUICE_STREAM_DELETED", `stream ${JSON.stringify(stream)} was hard-deleted`, {
      field: "stream",
      details: { stream },
    });
  }
}

/** An event whose type and schema version no upcaster or registered type knows (SLUICE_VALIDATION). */
export class UnknownEventTypeError extends SluiceError {
  constructor(
    readonly eventType: string,
    readonly schemaVersion: number,
    position: number,
  ) {
    super(
      "SLUICE_VALIDATION",
      `type: no registered type or upcaster for ${JSON.stringify(eventType)} v${schemaVersion} (event at position ${position})`,
      { field: "type", details: { type: eventType, schemaVersion, position } },
    );
  }
}

/** A projection handler failed; the projection stopped at `position` (SLUICE_PROJECTION). */
export class ProjectionError extends SluiceError {
  constructor(
    readonly projection: string,
    readonly position: number,
    cause: unknown,
  ) {
    super(
      "SLUICE_PROJECTION",
      `projection ${JSON.stringify(projection)} failed at position ${position}: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause, details: { projection, position } },
    );
  }
}
