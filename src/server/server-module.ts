import type { FastifyInstance } from "fastify";
import type { AwsJsonService, AwsQueryService } from "./aws/aws-protocols.js";

/** What the server gives every module when it registers. */
export interface ServerContext {
  /** The URL clients reach this server at (also in queue URLs). */
  readonly publicUrl: string;
  /** Aborts when the server starts shutting down: long polls and streams end. */
  readonly shutdown: AbortSignal;
}

/** A link on the index page and in the startup banner. */
export interface ServerLink {
  readonly path: string;
  readonly description: string;
}

/**
 * One primitive served over HTTP: its REST (and streaming) routes, and the AWS-compatible
 * services that speak for it. Queues are one module; topics, the event store, pub/sub and the
 * bus plug in the same way.
 */
export interface ServerModule {
  readonly name: string;
  register(app: FastifyInstance, context: ServerContext): void;
  readonly awsJson?: readonly AwsJsonService[];
  readonly awsQuery?: readonly AwsQueryService[];
  readonly links?: readonly ServerLink[];
}
