import {
  type NatsConnection,
  NoRespondersError,
  RequestError,
  TimeoutError,
  connect,
} from "@nats-io/transport-node";
import {
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  type StreamInfo,
} from "@nats-io/jetstream";
import { setTimeout as sleep } from "node:timers/promises";
import { SluiceError, invalid } from "../../errors/index.js";

/** Where a service finds its NATS servers. */
export interface NatsConnectionOptions {
  /** NATS servers, e.g. "nats://a:4222,b:4222,c:4222" or a list; ignored with `connection`. */
  readonly servers?: string | readonly string[];
  /** An open connection to use instead (the service then leaves it open on close). */
  readonly connection?: NatsConnection;
}

/** "nats://a:4222,b:4222" or a list, as the NATS client takes it. */
export function parseServers(servers: string | readonly string[]): string[] {
  const list = typeof servers === "string" ? servers.split(",") : [...servers];
  return list.map((s) => s.trim()).filter((s) => s.length > 0);
}

/** The given connection, or a new one that reconnects for ever; `owned` says who closes it. */
export async function natsConnection(
  options: NatsConnectionOptions,
): Promise<{ nc: NatsConnection; owned: boolean }> {
  if (options.connection !== undefined) return { nc: options.connection, owned: false };
  const servers = parseServers(options.servers ?? "nats://127.0.0.1:4222");
  try {
    return { nc: await connect({ servers, maxReconnectAttempts: -1 }), owned: true };
  } catch (error) {
    // Said as Sluice says a failed open, with the servers it tried, not as the client's own
    // ConnectionError (which `sluice start --messaging` printed as a stack trace).
    throw new SluiceError(
      "SLUICE_IO",
      `messaging: cannot connect to the NATS servers ${servers.join(",")}: ${(error as Error).message}`,
      { field: "messaging", cause: error },
    );
  }
}

/** A whole-number option, 0 or more (bytes, milliseconds), or `fallback` when not given. */
export function wholeNumberOption(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0)
    throw invalid(field, "a whole number, 0 or more", value);
  return value;
}

/** A namespace prefixes stream and bucket names: 1-32 of A-Z a-z 0-9 _ -. */
export function checkNamespace(namespace: unknown): string {
  if (typeof namespace === "string" && /^[A-Za-z0-9_-]{1,32}$/.test(namespace)) return namespace;
  throw new SluiceError(
    "SLUICE_VALIDATION",
    `namespace: expected 1-32 of A-Z a-z 0-9 _ -, got ${JSON.stringify(namespace)}`,
    { field: "namespace" },
  );
}

/**
 * A publish that got no answer (a timeout, or no stream leader to answer yet, which the client
 * reports as "JetStream not enabled" caused by "no responders"): worth sending again.
 */
export function isUnanswered(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 3; e = e.cause, depth++) {
    if (e instanceof TimeoutError || e instanceof NoRespondersError) return true;
    if (e instanceof RequestError && e.isNoResponders()) return true;
  }
  return false;
}

/** How long a stream that was just created may stay unknown to the server that is asked. */
const NEW_STREAM_VISIBLE_MS = 2000;

/**
 * The info of a stream this process created or found in the catalog. In a cluster the stream
 * can be unknown for a moment to the server answering right after its creation (a CI run saw
 * "stream not found" there), so that answer is asked again for a short while before it counts.
 */
export async function streamInfo(jsm: JetStreamManager, stream: string): Promise<StreamInfo> {
  const deadline = performance.now() + NEW_STREAM_VISIBLE_MS;
  for (;;) {
    try {
      return await jsm.streams.info(stream);
    } catch (error) {
      const notFound =
        error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound;
      if (!notFound || performance.now() >= deadline) throw error;
      await sleep(50);
    }
  }
}
