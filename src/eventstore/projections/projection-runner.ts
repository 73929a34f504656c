import { ProjectionError } from "../event-store-error.js";
import type { EventStore, RecordedEvent } from "../event-store.js";
import type { Gauge, LatencyHistogram, MetricsRegistry } from "../../observability/index.js";
import { LatencyHistogram as Histogram } from "../../observability/index.js";
import { type Clock, systemClock } from "../../time/index.js";
import {
  BufferedTransaction,
  type Projection,
  type ReadModel,
  readModelName,
} from "./projection.js";
import { saveProjectionSnapshot } from "./projection-snapshots.js";

export interface ProjectionRunnerOptions {
  readonly clock?: Clock;
  readonly metrics?: MetricsRegistry;
  /** Events applied per read-model transaction (default 1,000). */
  readonly batchSize?: number;
  /** Save a projection snapshot (for as-of queries) every this many positions (default: never). */
  readonly snapshotEvery?: number;
}

export type ProjectionState = "idle" | "running" | "rebuilding" | "stopped" | "failed";

export interface ProjectionStatus {
  readonly name: string;
  readonly state: ProjectionState;
  /** Global position of the last event the read model reflects. */
  readonly checkpoint: number;
  /** The handler error that stopped the projection, with its position. */
  readonly error: ProjectionError | undefined;
}

export interface RebuildProgress {
  readonly checkpoint: number;
  /** The head when the rebuild started: done when the checkpoint reaches it. */
  readonly target: number;
  readonly events: number;
  readonly elapsedMs: number;
}

/**
 * Runs an async projection: reads `$all` after the read model's checkpoint, applies a batch of
 * events in one read-model transaction, and commits the writes with the new checkpoint, so after
 * a crash it resumes exactly where the committed state ends (each effect once).
 */
export class ProjectionRunner {
  private state: ProjectionState = "idle";
  private checkpoint = -1;
  private error: ProjectionError | undefined;
  private abort: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private readonly clock: Clock;
  private readonly waiters: { position: number; resolve: () => void }[] = [];
  private lastSnapshot = -1;
  /** Append-to-apply delay of every event applied (ms). */
  readonly lag: LatencyHistogram;
  private readonly lagEvents: Gauge | undefined;
  private readonly lagMs: Gauge | undefined;

  constructor(
    private readonly store: EventStore,
    readonly projection: Projection,
    readonly readModel: ReadModel,
    private readonly options: ProjectionRunnerOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    const labels = { projection: readModelName(projection) };
    this.lag =
      options.metrics?.histogram("sluice_projection_lag_ms", "append-to-apply delay", labels) ??
      new Histogram();
    this.lagEvents = options.metrics?.gauge(
      "sluice_projection_lag_events",
      "events in $all not yet applied",
      labels,
    );
    this.lagMs = options.metrics?.gauge(
      "sluice_projection_behind_ms",
      "age of the newest applied event when the batch committed, 0 once caught up",
      labels,
    );
  }

  /** Starts applying events in the background (from the read model's checkpoint). */
  start(): void {
    if (this.loop !== undefined) return;
    this.error = undefined;
    this.abort = new AbortController();
    this.state = "running";
    const signal = this.abort.signal;
    this.loop = this.run(signal, undefined).finally(() => {
      this.loop = undefined;
    });
  }

  /** Stops after the batch in progress. */
  async stop(): Promise<void> {
    this.abort?.abort();
    await this.loop;
    if (this.state === "running") this.state = "stopped";
  }

  status(): ProjectionStatus {
    return {
      name: readModelName(this.projection),
      state: this.state,
      checkpoint: this.checkpoint,
      error: this.error,
    };
  }

  /** Resolves once the read model reflects `position` (or rejects if the projection fails). */
  waitFor(position: number): Promise<void> {
    if (this.checkpoint >= position) return Promise.resolve();
    if (this.state === "failed") return Promise.reject(this.error!);
    return new Promise((resolve) => this.waiters.push({ position, resolve }));
  }

  /** Truncates the read model and replays `$all` up to the current head, reporting progress. */
  async rebuild(onProgress?: (progress: RebuildProgress) => void): Promise<RebuildProgress> {
    const wasRunning = this.loop !== undefined;
    await this.stop();
    await this.readModel.reset();
    this.checkpoint = -1;
    this.error = undefined;
    this.state = "rebuilding";
    const target = await this.store.headPosition();
    const started = this.clock.now();
    let events = 0;
    const report = (): RebuildProgress => ({
      checkpoint: this.checkpoint,
      target,
      events,
      elapsedMs: this.clock.now() - started,
    });
    await this.run(new AbortController().signal, target, (n) => {
      events += n;
      onProgress?.(report());
    });
    if (this.state === "rebuilding") this.state = "stopped";
    if (wasRunning && this.error === undefined) this.start();
    return report();
  }

  private async run(
    signal: AbortSignal,
    until: number | undefined,
    onBatch?: (events: number) => void,
  ): Promise<void> {
    this.checkpoint = await this.readModel.checkpoint();
    const batchSize = this.options.batchSize ?? 1000;
    const { filter } = this.projection;
    while (!signal.aborted) {
      if (until !== undefined && this.checkpoint >= until) return;
      const head = await this.store.headPosition();
      this.lagEvents?.set(Math.max(0, head - this.checkpoint));
      if (head <= this.checkpoint) {
        // Caught up: no time behind, however old the last event applied was.
        this.lagMs?.set(0);
        await this.store.waitForAppend(this.checkpoint, signal);
        if (this.store.isClosed) return;
        continue;
      }
      const page = await this.store.readAll({
        fromPosition: this.checkpoint + 1,
        maxCount: batchSize,
        ...(filter === undefined ? {} : { filter }),
      });
      const tx = new BufferedTransaction((key) => this.readModel.get(key));
      let failedAt: number | undefined;
      for (let i = 0; i < page.events.length; i++) {
        const event = page.events[i]!;
        try {
          // A handler that finished synchronously is not awaited: one turn less per event.
          const applied = this.projection.apply(event, tx);
          if (applied !== undefined) await applied;
        } catch (cause) {
          failedAt = i;
          this.error = new ProjectionError(this.projection.name, event.position, cause);
          break;
        }
      }
      if (failedAt !== undefined) {
        await this.commitBefore(page.events, failedAt);
        this.state = "failed";
        for (const w of this.waiters.splice(0)) w.resolve();
        return;
      }
      const last = page.events[page.events.length - 1]?.position ?? -1;
      const next = page.nextPosition !== undefined ? page.nextPosition - 1 : Math.max(last, head);
      await this.readModel.commit(tx.writes, next);
      this.afterCommit(page.events, next);
      onBatch?.(page.events.length);
      await this.maybeSnapshot();
    }
  }

  /** Commits the events before the one that failed, so the checkpoint stops right at it. */
  private async commitBefore(events: readonly RecordedEvent[], failedAt: number): Promise<void> {
    const tx = new BufferedTransaction((key) => this.readModel.get(key));
    for (const event of events.slice(0, failedAt)) await this.projection.apply(event, tx);
    const position = events[failedAt]!.position - 1;
    if (position > this.checkpoint) {
      await this.readModel.commit(tx.writes, position);
      this.afterCommit(events.slice(0, failedAt), position);
    }
  }

  private afterCommit(events: readonly RecordedEvent[], checkpoint: number): void {
    this.checkpoint = checkpoint;
    const now = this.clock.now();
    // A rebuild replays history: the age of old events is not the projection's lag.
    if (this.state !== "rebuilding")
      for (const event of events) this.lag.recordMs(Math.max(0, now - event.timestamp));
    const newest = events[events.length - 1];
    if (newest !== undefined) this.lagMs?.set(Math.max(0, now - newest.timestamp));
    for (let i = this.waiters.length - 1; i >= 0; i--)
      if (this.waiters[i]!.position <= checkpoint) this.waiters.splice(i, 1)[0]!.resolve();
  }

  private async maybeSnapshot(): Promise<void> {
    const every = this.options.snapshotEvery;
    if (every === undefined || this.checkpoint - this.lastSnapshot < every) return;
    await saveProjectionSnapshot(this.store, this.projection, this.readModel);
    this.lastSnapshot = this.checkpoint;
  }
}
