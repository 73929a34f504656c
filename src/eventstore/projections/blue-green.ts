import { SluiceError } from "../../errors/index.js";
import type { EventStore } from "../event-store.js";
import { type Projection, type ReadModel, readModelName } from "./projection.js";
import { ProjectionRunner, type ProjectionRunnerOptions } from "./projection-runner.js";

/**
 * Blue/green projection versions: a new version builds its own read model (`name@vN`) beside
 * the live one; `promote` switches readers over once the new one has caught up, and stops the
 * old one.
 */
export class BlueGreenProjection {
  private readonly runners = new Map<number, ProjectionRunner>();
  private liveVersion: number | undefined;

  constructor(
    private readonly store: EventStore,
    /** Makes (or opens) the read model for a model name such as `orders@v2`. */
    private readonly readModelFor: (modelName: string) => Promise<ReadModel>,
    private readonly options: ProjectionRunnerOptions = {},
  ) {}

  /** Starts building `projection` (its `version`); the first version deployed goes live at once. */
  async deploy(projection: Projection): Promise<ProjectionRunner> {
    const version = projection.version ?? 1;
    if (this.runners.has(version))
      throw new SluiceError("SLUICE_ALREADY_EXISTS", `version ${version} is already deployed`, {
        field: "projection.version",
      });
    const runner = new ProjectionRunner(
      this.store,
      projection,
      await this.readModelFor(readModelName(projection)),
      this.options,
    );
    this.runners.set(version, runner);
    runner.start();
    this.liveVersion ??= version;
    return runner;
  }

  /** The runner whose read model readers should use. */
  live(): ProjectionRunner {
    const runner = this.liveVersion === undefined ? undefined : this.runners.get(this.liveVersion);
    if (runner === undefined) throw new SluiceError("SLUICE_NOT_FOUND", "nothing deployed yet");
    return runner;
  }

  /** Waits until `version` has caught up with the head, then makes it live and stops the old one. */
  async promote(version: number): Promise<void> {
    const runner = this.runners.get(version);
    if (runner === undefined)
      throw new SluiceError("SLUICE_NOT_FOUND", `version ${version} is not deployed`, {
        field: "version",
      });
    await runner.waitFor(await this.store.headPosition());
    const status = runner.status();
    if (status.error !== undefined) throw status.error;
    const old = this.liveVersion === undefined ? undefined : this.runners.get(this.liveVersion);
    this.liveVersion = version;
    if (old !== undefined && old !== runner) {
      await old.stop();
      this.runners.delete(old.projection.version ?? 1);
    }
  }

  async stop(): Promise<void> {
    for (const runner of this.runners.values()) await runner.stop();
  }
}
