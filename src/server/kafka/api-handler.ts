import type { Clock } from "../../time/index.js";
import type { ApiSchema } from "./protocol/schema.js";
import type { KafkaGroups } from "./groups/kafka-groups.js";
import type { KafkaBackend } from "./kafka-backend.js";

/** The broker this listener presents itself as (one node, its own controller and coordinator). */
export interface BrokerIdentity {
  readonly nodeId: number;
  /** The host and port clients are told to connect to (never 0.0.0.0). */
  readonly host: string;
  readonly port: number;
  readonly clusterId: string;
}

/** Broker-wide choices that change what handlers do. */
export interface BrokerSettings {
  /** Create unknown topics a client asks metadata for (Kafka's auto.create.topics.enable). */
  readonly autoCreateTopics: boolean;
  /** Partitions of a topic created without a count. */
  readonly defaultPartitions: number;
  /** SASL/PLAIN users and passwords; when set, every connection must authenticate first. */
  readonly saslUsers?: ReadonlyMap<string, string>;
}

/** What a connection has established so far (SASL state). */
export interface ConnectionSession {
  /** True once SASL succeeded, or from the start when the listener requires none. */
  authenticated: boolean;
  /** The mechanism SaslHandshake chose. */
  mechanism: string | undefined;
  /** Who authenticated. */
  principal: string | undefined;
  /** Set by a handler whose answer is the last on this connection (a failed authentication). */
  closeAfterResponse: boolean;
}

/** What a handler gets besides its request. */
export interface RequestContext {
  readonly apiVersion: number;
  readonly clientId: string | null;
  readonly broker: BrokerIdentity;
  readonly settings: BrokerSettings;
  readonly backend: KafkaBackend;
  readonly groups: KafkaGroups;
  readonly clock: Clock;
  /** The client's address, as group descriptions show it. */
  readonly clientHost: string;
  /** Aborts when the connection closes (so long polls stop). */
  readonly signal: AbortSignal;
  readonly session: ConnectionSession;
}

/** Returned by a handler whose request gets no response (Produce with acks=0). */
export const NO_RESPONSE: unique symbol = Symbol("no response");

/** One Kafka API as the listener serves it: schema, versions and handler in one row of the table. */
export interface ApiHandler<Request = never, Response = object> {
  readonly schema: ApiSchema;
  /** Versions decoded and answered. */
  readonly minVersion: number;
  readonly maxVersion: number;
  /**
   * Lowest version advertised, when it must be lower than `minVersion`: Produce is advertised
   * from 0, or librdkafka sends compressed batches uncompressed (KAFKA-18659).
   */
  readonly advertisedMinVersion?: number;
  handle(request: Request, context: RequestContext): Promise<Response | typeof NO_RESPONSE>;
}

/** Declares a handler row with its request and response types checked. */
export function defineApi<Request, Response extends object>(
  handler: ApiHandler<Request, Response>,
): ApiHandler<Request, Response> {
  return handler;
}
