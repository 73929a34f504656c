import { isSluiceError } from "../errors/index.js";
import type {
  ReadAllOptions,
  ReadAllResult,
  ReadStreamOptions,
  ReadStreamResult,
  RecordedEvent,
  SubscribeOptions,
} from "./event-store.js";
import { checkSubscribeOptions } from "./event-validation.js";

/** What a backend offers so one subscription loop serves them all. */
export interface SubscriptionSource {
  readStream(stream: string, options?: ReadStreamOptions): Promise<ReadStreamResult>;
  readAll(options?: ReadAllOptions): Promise<ReadAllResult>;
  headPosition(): Promise<number>;
  /** Resolves once the head may be past `position`, or the store closes, or `signal` aborts. */
  waitForAppend(position: number, signal?: AbortSignal): Promise<void>;
  readonly isClosed: boolean;
}

const PAGE = 1000;

/**
 * Catch-up then live: reads pages until the end, then waits for appends, and never skips or
 * reorders: the backend guarantees that nothing appears later at or below a head it reported.
 * `after: "end"` is the end when this is called, not when iteration starts: an event appended
 * in between is delivered.
 */
export function subscribeTo(
  source: SubscriptionSource,
  given?: SubscribeOptions,
): AsyncGenerator<RecordedEvent, void, undefined> {
  let end: Promise<number> | undefined;
  if (given?.after === "end") {
    end = subscriptionEnd(source, typeof given.stream === "string" ? given.stream : undefined);
    // A failure here (a bad stream name) is reported by the checks when iteration starts.
    end.catch(() => undefined);
  }
  return follow(source, given, end);
}

/**
 * Where a subscription "from the end" starts: the stream's last version (-1 for a stream that
 * does not exist yet), or the head of `$all` without a stream.
 */
export function subscriptionEnd(
  source: Pick<SubscriptionSource, "readStream" | "headPosition">,
  stream: string | undefined,
): Promise<number> {
  return stream === undefined ? source.headPosition() : streamVersion(source, stream);
}

async function* follow(
  source: SubscriptionSource,
  given: SubscribeOptions | undefined,
  end: Promise<number> | undefined,
): AsyncGenerator<RecordedEvent, void, undefined> {
  const options = checkSubscribeOptions(given);
  const { signal, filter } = options;
  const live = (): boolean => !source.isClosed && signal?.aborted !== true;
  if (options.stream !== undefined) {
    const stream = options.stream;
    let next: number;
    if (options.after === "end") next = (await end!) + 1;
    else next = options.after === undefined ? 0 : options.after + 1;
    while (live()) {
      const head = await source.headPosition();
      let page: ReadStreamResult | undefined;
      try {
        page = await source.readStream(stream, { fromVersion: next, maxCount: PAGE });
      } catch (error) {
        if (!isSluiceError(error, "SLUICE_NOT_FOUND")) throw error;
      }
      const events = page?.events ?? [];
      for (const event of events) {
        if (!live()) return;
        if (event.version < next) continue;
        next = event.version + 1;
        if (matches(event, filter)) yield event;
      }
      if (page?.nextVersion !== undefined) next = Math.max(next, page.nextVersion);
      else if (events.length === 0) await source.waitForAppend(head, signal);
    }
    return;
  }
  let next = options.after === "end" ? (await end!) + 1 : (options.after ?? -1) + 1;
  while (live()) {
    const head = await source.headPosition();
    if (head < next) {
      await source.waitForAppend(next - 1, signal);
      continue;
    }
    const page = await source.readAll({
      fromPosition: next,
      maxCount: PAGE,
      includeSystem: true,
      ...(filter === undefined ? {} : { filter }),
    });
    for (const event of page.events) {
      if (!live()) return;
      next = event.position + 1;
      if (!event.stream.startsWith("$") || wantsSystem(filter)) yield event;
    }
    next = page.nextPosition ?? Math.max(next, head + 1);
  }
}

async function streamVersion(
  source: Pick<SubscriptionSource, "readStream">,
  stream: string,
): Promise<number> {
  try {
    return (await source.readStream(stream, { direction: "backward", maxCount: 1 })).streamVersion;
  } catch (error) {
    if (isSluiceError(error, "SLUICE_NOT_FOUND")) return -1;
    throw error;
  }
}

function wantsSystem(filter: SubscribeOptions["filter"]): boolean {
  return filter?.streamPrefixes?.some((p) => p.startsWith("$")) === true;
}

/** Whether `event` passes `filter` (prefixes OR'ed, types OR'ed, both must hold). */
export function matches(event: RecordedEvent, filter: SubscribeOptions["filter"]): boolean {
  if (filter === undefined) return true;
  if (filter.types !== undefined && !filter.types.includes(event.type)) return false;
  if (
    filter.streamPrefixes !== undefined &&
    !filter.streamPrefixes.some((p) => event.stream.startsWith(p))
  )
    return false;
  return true;
}
