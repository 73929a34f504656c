import { SluiceError, invalid, isSluiceError } from "../../errors/index.js";
import { type Clock, systemClock } from "../../time/index.js";
import type { EventFilter, EventStore } from "../event-store.js";
import { checkStreamName } from "../event-validation.js";
import {
  type ConnectOptions,
  type GroupSettings,
  type ParkedEvent,
  type PersistentDelivery,
  type PersistentSubscriptionGroups,
  type PersistentSubscriptionInfo,
  type PersistentSubscriptionSettings,
  type PersistentSubscriptionStateStore,
  groupNotFound,
} from "./persistent-subscription.js";
import { SubscriptionGroup } from "./subscription-group.js";

const DEFAULT_MAX_RETRY_COUNT = 10;
const DEFAULT_MESSAGE_TIMEOUT_MS = 30_000;
const DEFAULT_BUFFER_SIZE = 500;
const DEFAULT_MAX_IN_FLIGHT = 10;

function checkCount(value: unknown, field: string, min: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min)
    throw invalid(field, `an integer >= ${min}`, value);
  return value;
}

function checkFilter(filter: unknown): EventFilter | null {
  if (filter === undefined) return null;
  if (typeof filter !== "object" || filter === null)
    throw invalid("filter", "an object with streamPrefixes and/or types", filter);
  const { streamPrefixes, types } = filter as EventFilter;
  for (const [field, list] of [
    ["filter.streamPrefixes", streamPrefixes],
    ["filter.types", types],
  ] as const)
    if (list !== undefined && (!Array.isArray(list) || list.some((s) => typeof s !== "string")))
      throw invalid(field, "an array of strings", list);
  return {
    ...(streamPrefixes === undefined ? {} : { streamPrefixes: [...streamPrefixes] }),
    ...(types === undefined ? {} : { types: [...types] }),
  };
}

/** A consumer's maxInFlight as a caller gave it, or the default. */
export function checkMaxInFlight(maxInFlight: unknown): number {
  return checkCount(maxInFlight ?? DEFAULT_MAX_IN_FLIGHT, "maxInFlight", 1);
}

/** Checks the settings a caller gave and fills in the defaults. */
export function checkGroupSettings(settings: PersistentSubscriptionSettings): GroupSettings {
  if (typeof settings !== "object" || settings === null)
    throw invalid("settings", "an object with a group name", settings);
  const group = checkStreamName(settings.group, "group");
  const stream = settings.stream === undefined ? null : checkStreamName(settings.stream);
  if (settings.startAfter !== undefined && settings.startAfter !== "end")
    checkCount(settings.startAfter, "startAfter", -1);
  return {
    group,
    stream,
    filter: checkFilter(settings.filter),
    maxRetryCount: checkCount(
      settings.maxRetryCount ?? DEFAULT_MAX_RETRY_COUNT,
      "maxRetryCount",
      0,
    ),
    messageTimeoutMs: checkCount(
      settings.messageTimeoutMs ?? DEFAULT_MESSAGE_TIMEOUT_MS,
      "messageTimeoutMs",
      1,
    ),
    bufferSize: checkCount(settings.bufferSize ?? DEFAULT_BUFFER_SIZE, "bufferSize", 1),
  };
}

/** The checkpoint a new group starts from: before `startAfter`'s next event (-1: the beginning). */
export async function startCheckpoint(
  store: EventStore,
  settings: GroupSettings,
  startAfter: number | "end" | undefined,
): Promise<number> {
  if (typeof startAfter === "number") return startAfter;
  if (startAfter !== "end") return -1;
  if (settings.stream === null) return store.headPosition();
  try {
    return (await store.readStream(settings.stream, { direction: "backward", maxCount: 1 }))
      .streamVersion;
  } catch (error) {
    if (isSluiceError(error, "SLUICE_NOT_FOUND")) return -1;
    throw error;
  }
}

/**
 * Persistent subscriptions (competing consumers) over an event store: named groups on a stream
 * or `$all`, each with a durable checkpoint; the consumers connected to a group share its
 * events, acknowledge or nack each one (retry, park, skip), and parked events can be listed and
 * replayed. Groups are dispatched in this process; their state lives in the backend's store.
 */
export class PersistentSubscriptions implements PersistentSubscriptionGroups {
  private readonly running = new Map<string, Promise<SubscriptionGroup>>();
  private stateStore: Promise<PersistentSubscriptionStateStore> | undefined;
  private closed = false;

  constructor(
    private readonly store: EventStore,
    private readonly openState: () => Promise<PersistentSubscriptionStateStore>,
    private readonly clock: Clock = systemClock,
  ) {}

  private state(): Promise<PersistentSubscriptionStateStore> {
    if (this.closed)
      return Promise.reject(
        new SluiceError("SLUICE_CLOSED", "persistent subscriptions are closed"),
      );
    this.stateStore ??= this.openState();
    return this.stateStore;
  }

  /** Creates a group; its checkpoint starts after `startAfter` (the beginning by default). */
  async create(settings: PersistentSubscriptionSettings): Promise<GroupSettings> {
    const checked = checkGroupSettings(settings);
    const state = await this.state();
    await state.create(checked, await startCheckpoint(this.store, checked, settings.startAfter));
    return checked;
  }

  /** Deletes a group, its checkpoint and its parked events; its consumers stop. */
  async delete(group: string): Promise<void> {
    checkStreamName(group, "group");
    const state = await this.state();
    const running = this.running.get(group);
    this.running.delete(group);
    if (running !== undefined) await (await running.catch(() => undefined))?.stop();
    await state.delete(group);
  }

  /** Every group with its checkpoint, parked count and connected consumers. */
  async list(): Promise<PersistentSubscriptionInfo[]> {
    const state = await this.state();
    const out: PersistentSubscriptionInfo[] = [];
    for (const record of await state.list()) {
      const running = await this.running.get(record.settings.group)?.catch(() => undefined);
      out.push({
        settings: record.settings,
        checkpoint: running?.lastCheckpoint ?? record.checkpoint,
        parked: (await state.listParked(record.settings.group)).length,
        consumers: running?.consumerCount ?? 0,
      });
    }
    return out;
  }

  /** Connects a consumer: it receives its share of the group's events until `signal` aborts. */
  connect(group: string, options: ConnectOptions = {}): AsyncIterable<PersistentDelivery> {
    checkStreamName(group, "group");
    const maxInFlight = checkMaxInFlight(options.maxInFlight);
    const groups = (): Promise<SubscriptionGroup> => this.group(group);
    return {
      async *[Symbol.asyncIterator]() {
        const running = await groups();
        yield* running.consume(maxInFlight, options.signal);
      },
    };
  }

  private group(name: string): Promise<SubscriptionGroup> {
    let running = this.running.get(name);
    if (running === undefined) {
      running = this.startGroup(name);
      this.running.set(name, running);
      running.catch(() => this.running.delete(name));
    }
    return running;
  }

  private async startGroup(name: string): Promise<SubscriptionGroup> {
    const state = await this.state();
    const record = await state.load(name);
    if (record === undefined) throw groupNotFound(name);
    const group = new SubscriptionGroup(this.store, state, this.clock, record);
    const parked = await state.listParked(name);
    group.start(parked.filter((p) => p.replaying));
    return group;
  }

  /** The group's parked events, oldest first by position. */
  async listParked(group: string): Promise<ParkedEvent[]> {
    checkStreamName(group, "group");
    const state = await this.state();
    if ((await state.load(group)) === undefined) throw groupNotFound(group);
    return state.listParked(group);
  }

  /** Hands every parked event back to the group's consumers; returns how many. */
  async replayParked(group: string): Promise<number> {
    checkStreamName(group, "group");
    return (await this.group(group)).replayParked();
  }

  /** Stops every running group, writing what was settled. */
  async close(): Promise<void> {
    if (this.closed) return;
    const groups = [...this.running.values()];
    this.running.clear();
    for (const group of groups) await (await group.catch(() => undefined))?.stop();
    this.closed = true;
    const state = await this.stateStore?.catch(() => undefined);
    await state?.close();
  }
}
