import { isSluiceError } from "../../errors/index.js";
import type { EventMetadata, EventStore, RecordedEvent } from "../event-store.js";
import {
  type SnapshotPolicy,
  type SnapshotStore,
  snapshotDue,
} from "../snapshots/snapshot-store.js";
import type { Aggregate } from "./aggregate.js";
import { aggregateStream, stateAsJson } from "./aggregate-stream.js";

export interface CommandHandlerOptions {
  /** Attempts after a concurrency conflict before giving up (default 5). */
  readonly retries?: number;
  readonly snapshots?: SnapshotStore;
  /** When to save a snapshot after a command (needs `snapshots`; default every 100 events). */
  readonly snapshotPolicy?: SnapshotPolicy;
}

export interface CommandResult<State> {
  readonly state: State;
  /** The events the command appended (none when `decide` returned none). */
  readonly events: readonly RecordedEvent[];
  readonly nextExpectedVersion: number;
}

/**
 * Loads a stream's state, asks the aggregate to decide, and appends with the version it read;
 * on a concurrency conflict it reloads and decides again, up to `retries` times.
 */
export class CommandHandler<State, Command> {
  private readonly snapshotTaken = new Map<string, { version: number; timestamp: number }>();

  constructor(
    private readonly store: EventStore,
    private readonly aggregate: Aggregate<State, Command>,
    private readonly options: CommandHandlerOptions = {},
  ) {}

  /** Handles `command` against `stream`; `metadata` (who, why) is stored with every event. */
  async handle(
    stream: string,
    command: Command,
    metadata: EventMetadata = {},
  ): Promise<CommandResult<State>> {
    const retries = this.options.retries ?? 5;
    for (let attempt = 0; ; attempt++) {
      const current = await aggregateStream(this.store, stream, this.aggregate, {
        ...(this.options.snapshots === undefined ? {} : { snapshots: this.options.snapshots }),
      });
      const decided = this.aggregate.decide(command, current.state);
      if (decided.length === 0)
        return { state: current.state, events: [], nextExpectedVersion: current.version };
      try {
        const result = await this.store.appendToStream(
          stream,
          decided.map((e) => ({ ...e, metadata: { ...metadata, ...e.metadata } })),
          { expectedVersion: current.version < 0 ? "no_stream" : current.version },
        );
        const page = await this.store.readStream(stream, {
          fromVersion: current.version + 1,
          maxCount: decided.length,
        });
        let state = current.state;
        for (const event of page.events) state = this.aggregate.evolve(state, event);
        await this.maybeSnapshot(stream, state, page.events[page.events.length - 1]);
        return { state, events: page.events, nextExpectedVersion: result.nextExpectedVersion };
      } catch (error) {
        if (isSluiceError(error, "SLUICE_CONCURRENCY") && attempt < retries) continue;
        throw error;
      }
    }
  }

  private async maybeSnapshot(
    stream: string,
    state: State,
    last: RecordedEvent | undefined,
  ): Promise<void> {
    const snapshots = this.options.snapshots;
    if (snapshots === undefined || last === undefined) return;
    const policy = this.options.snapshotPolicy ?? { everyEvents: 100 };
    let previous = this.snapshotTaken.get(stream);
    if (previous === undefined) {
      const stored = await snapshots.load(stream, {
        stateVersion: this.aggregate.stateVersion ?? 1,
      });
      previous = stored === undefined ? undefined : stored;
    }
    if (!snapshotDue(policy, previous, last.version, last.timestamp)) return;
    await snapshots.save({
      stream,
      version: last.version,
      position: last.position,
      timestamp: last.timestamp,
      stateVersion: this.aggregate.stateVersion ?? 1,
      state: stateAsJson(state),
    });
    this.snapshotTaken.set(stream, { version: last.version, timestamp: last.timestamp });
  }
}
