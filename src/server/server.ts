import { timingSafeEqual } from "node:crypto";
import { setMaxListeners } from "node:events";
import websocket from "@fastify/websocket";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { SluiceError } from "../errors/index.js";
import type { EventStore } from "../eventstore/index.js";
import type { EventBusService } from "../messaging/bus/index.js";
import type { PubSubService } from "../messaging/pubsub/index.js";
import type { QueueService } from "../messaging/queues/index.js";
import type { TopicService } from "../messaging/topics/index.js";
import type { MetricsRegistry } from "../observability/index.js";
import {
  type AwsServices,
  isAwsQueryGet,
  registerAwsProtocols,
  serveAws,
} from "./aws/aws-protocols.js";
import { type AwsCredential, SigV4Verifier } from "./aws/sigv4.js";
import { CORE_LINKS, banner, indexPage } from "./index-page.js";
import { OpenApiCollector } from "./openapi.js";
import { PrometheusExporter } from "./prometheus.js";
import { busModule } from "./bus/bus-module.js";
import { eventStoreModule } from "./eventstore/event-store-module.js";
import { pubSubModule } from "./pubsub/pubsub-module.js";
import { queuesModule } from "./queues/queues-module.js";
import { healthOf } from "./health.js";
import { installRestErrorHandler, restError } from "./rest-errors.js";
import { installSchemaValidation } from "./schema-validation.js";
import type { ServerContext, ServerLink, ServerModule } from "./server-module.js";
import { topicsModule } from "./topics/topics-module.js";
import { SLUICE_VERSION } from "../version.js";

/**
 * The primitives a server serves; each one present gets its module. An opened `Sluice`
 * (`open(dir)`) is one: `SluiceServer.create(sluice)` serves every primitive in it.
 */
export interface SluiceServices {
  readonly queues?: QueueService;
  readonly topics?: TopicService;
  readonly eventStore?: EventStore;
  readonly pubsub?: PubSubService;
  readonly bus?: EventBusService;
  /** The registry the primitives report into, exported at /metrics. */
  readonly metrics?: MetricsRegistry;
}

/** The URL clients use: localhost for loopback and wildcard binds, else the host itself. */
export function defaultPublicUrl(host: string, port: number): string {
  const local = ["127.0.0.1", "localhost", "0.0.0.0", "::", "::1"].includes(host);
  const shown = local ? "localhost" : host.includes(":") ? `[${host}]` : host;
  return `http://${shown}:${port}`;
}

export interface SluiceServerOptions {
  /** Default 127.0.0.1: only this machine can connect unless told otherwise. */
  readonly host?: string;
  /** Default 8080; 0 picks a free port. */
  readonly port?: number;
  /**
   * The URL clients use (links, queue URLs); default `defaultPublicUrl(host, port)`, with the
   * port listened on when `port` is 0.
   */
  readonly publicUrl?: string;
  /** When set, REST, streams and /metrics need `Authorization: Bearer <token>` (or `?token=`). */
  readonly authToken?: string;
  /** Largest request body (default 4 MiB: a 1 MiB SQS batch form-encoded can triple). */
  readonly bodyLimitBytes?: number;
  /** Log requests (pino, JSON lines on stdout); default off. */
  readonly logger?: boolean;
  /** Modules beyond the ones built from `services`. */
  readonly modules?: readonly ServerModule[];
  /** Called with the Fastify instance before any route is added (extra hooks, tracing). */
  readonly instrument?: (app: FastifyInstance) => void;
  /**
   * Access keys the AWS-compatible APIs accept; requests must then carry a valid SigV4
   * signature of one of them. Default: any credentials are accepted, as emulators do.
   */
  readonly awsCredentials?: readonly AwsCredential[];
  /** Interval of the live metrics feed (default 1000 ms). */
  readonly metricsFeedIntervalMs?: number;
}

/** One module per primitive present in `services`. */
export function modulesFor(services: SluiceServices): ServerModule[] {
  const modules: ServerModule[] = [];
  if (services.queues !== undefined) modules.push(queuesModule(services.queues));
  if (services.topics !== undefined) modules.push(topicsModule(services.topics));
  if (services.eventStore !== undefined) modules.push(eventStoreModule(services.eventStore));
  if (services.pubsub !== undefined) modules.push(pubSubModule(services.pubsub));
  if (services.bus !== undefined) modules.push(busModule(services.bus));
  return modules;
}

/**
 * Sluice over HTTP on one port: REST and streaming routes of every module, the AWS-compatible
 * APIs at `/`, `/metrics`, `/openapi.json`, health checks and an index page. It serves the
 * services it is given and never closes them: whoever opened them closes them after `close()`.
 */
export class SluiceServer {
  private readonly shutdownController = new AbortController();
  private listening = false;
  private publicUrlValue: string;

  private constructor(
    readonly app: FastifyInstance,
    private readonly options: SluiceServerOptions,
    private readonly links: readonly ServerLink[],
    private readonly awsApis: readonly string[],
  ) {
    this.publicUrlValue =
      options.publicUrl ?? defaultPublicUrl(options.host ?? "127.0.0.1", options.port ?? 8080);
    setMaxListeners(0, this.shutdownController.signal);
  }

  /** Builds the server (not yet listening) for `services` and `options.modules`. */
  static async create(
    services: SluiceServices,
    options: SluiceServerOptions = {},
  ): Promise<SluiceServer> {
    const app = Fastify({
      logger: options.logger ?? false,
      bodyLimit: options.bodyLimitBytes ?? 4 * 1024 * 1024,
      // Names reach 255 characters (stream names); percent-encoded, a character may take 12.
      routerOptions: { maxParamLength: 4096 },
      // A URL the router cannot read (`/queues/%zz`) gets the REST error body, like any other.
      frameworkErrors: (error, _request, reply) =>
        void (reply as FastifyReply)
          .status(400)
          .send(restError(new SluiceError("SLUICE_VALIDATION", `the URL: ${error.message}`))),
      forceCloseConnections: "idle",
      return503OnClosing: true,
      // A body's `__proto__` or `constructor` key is data (a tag key, an attribute name, a field
      // of an event), as on the AWS protocols: JSON.parse makes it an own property, and every
      // record built from a body sets names as own entries, so no prototype is reached.
      onProtoPoisoning: "ignore",
      onConstructorPoisoning: "ignore",
    });
    const modules = [...modulesFor(services), ...(options.modules ?? [])];
    const aws: AwsServices = {
      json: modules.flatMap((m) => m.awsJson ?? []),
      query: modules.flatMap((m) => m.awsQuery ?? []),
      ...(options.awsCredentials === undefined || options.awsCredentials.length === 0
        ? {}
        : { verifier: new SigV4Verifier(options.awsCredentials) }),
    };
    const awsApis = [
      ...aws.json.map(
        (s) => `${s.name} API, AWS JSON ${s.jsonVersion} (X-Amz-Target: ${s.targetPrefix}.*)`,
      ),
      ...aws.query.map((s) => `${s.name} API, AWS query protocol (Version=${s.version})`),
    ].map((api) => (aws.verifier === undefined ? api : `${api}, SigV4 signatures verified`));
    const server = new SluiceServer(
      app,
      options,
      [...modules.flatMap((m) => m.links ?? []), ...CORE_LINKS],
      awsApis,
    );
    await server.build(modules, aws, services);
    return server;
  }

  /** The URL clients reach the server at. */
  get url(): string {
    return this.publicUrlValue;
  }

  /** Starts listening; resolves with the server's URL. */
  async listen(): Promise<string> {
    await this.app.listen({
      host: this.options.host ?? "127.0.0.1",
      port: this.options.port ?? 8080,
    });
    const address = this.app.server.address();
    if (this.options.publicUrl === undefined && typeof address === "object" && address !== null)
      this.publicUrlValue = defaultPublicUrl(this.options.host ?? "127.0.0.1", address.port);
    this.listening = true;
    return this.url;
  }

  /** One line per URL that matters, for the startup message. */
  banner(): string {
    return banner(this.url, this.links, this.awsApis);
  }

  /**
   * Graceful shutdown: refuses new requests, ends long polls and streams (empty answers),
   * waits for the requests in flight to finish, then closes the port.
   */
  async close(): Promise<void> {
    this.listening = false;
    this.shutdownController.abort();
    await this.app.close();
  }

  private async build(
    modules: readonly ServerModule[],
    aws: AwsServices,
    services: SluiceServices,
  ): Promise<void> {
    const app = this.app;
    const shutdown = this.shutdownController.signal;
    this.options.instrument?.(app);
    const openApi = new OpenApiCollector();
    openApi.watch(app);
    const prometheus = new PrometheusExporter(services.metrics);
    prometheus.instrument(app);
    app.addContentTypeParser(
      [
        "application/x-amz-json-1.0",
        "application/x-amz-json-1.1",
        "application/x-www-form-urlencoded",
      ],
      { parseAs: "string" },
      (_request, body, done) => done(null, body),
    );
    installRestErrorHandler(app);
    installSchemaValidation(app);
    // Answers sent while shutting down close their connection: a keep-alive socket left idle
    // would hold `close()` until its keep-alive timeout.
    app.addHook("onSend", (_request, reply, payload, done) => {
      if (shutdown.aborted) void reply.header("connection", "close");
      done(null, payload);
    });
    await app.register(websocket, { options: { maxPayload: 1024 * 1024 } });
    // After the WebSocket plugin: its own first hook marks an upgrade request as one, so that
    // an upgrade refused here (401) has its connection closed after the answer. Before it, the
    // connection stayed open, and held `close()` (a graceful shutdown) for as long as the
    // client kept it.
    if (this.options.authToken !== undefined) this.requireToken(this.options.authToken);

    app.get("/", (request, reply) => {
      if (isAwsQueryGet(request)) return serveAws(request, reply, aws, shutdown, app.log);
      return reply.type("text/html").send(indexPage(this.url, this.links, this.awsApis));
    });
    app.get("/healthz", (_request, reply) => {
      const health = healthOf(services.metrics);
      return health.status === "ok" ? health : reply.status(503).send(health);
    });
    app.get("/readyz", (_request, reply) =>
      this.listening ? { status: "ready" } : reply.status(503).send({ status: "not ready" }),
    );
    app.get("/openapi.json", () => openApi.document(this.url, SLUICE_VERSION));
    app.get("/metrics", async (_request, reply) =>
      reply.type(prometheus.contentType).send(await prometheus.text()),
    );
    app.get("/metrics/stream", (request, reply) =>
      this.metricsFeed(request, reply, services.metrics),
    );
    const context: ServerContext = {
      get publicUrl() {
        return server.url;
      },
      shutdown,
    };
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the context reads the URL once listening
    const server = this;
    for (const module of modules) module.register(app, context);
    registerAwsProtocols(app, aws, shutdown);
  }

  /** Server-sent events: the Sluice metrics as JSON every interval; a slow reader skips frames. */
  private metricsFeed(
    request: FastifyRequest,
    reply: FastifyReply,
    metrics: MetricsRegistry | undefined,
  ): void {
    reply.hijack();
    const out = reply.raw;
    out.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
    });
    let blocked = false;
    const tick = (): void => {
      if (blocked) return;
      const frame = `data: ${JSON.stringify({ time: Date.now(), metrics: metrics?.collect() ?? [] })}\n\n`;
      if (!out.write(frame)) {
        blocked = true;
        out.once("drain", () => (blocked = false));
      }
    };
    tick();
    const timer = setInterval(tick, this.options.metricsFeedIntervalMs ?? 1000);
    const end = (): void => {
      clearInterval(timer);
      out.end();
    };
    this.shutdownController.signal.addEventListener("abort", end, { once: true });
    request.raw.socket.once("close", () => {
      clearInterval(timer);
      this.shutdownController.signal.removeEventListener("abort", end);
    });
  }

  private requireToken(token: string): void {
    const expected = Buffer.from(token);
    const open = new Set(["/", "/healthz", "/readyz"]);
    this.app.addHook("onRequest", async (request, reply) => {
      const path = request.url.split("?")[0] ?? "/";
      if (open.has(path) && request.method === "GET") return;
      // The AWS APIs have their own credentials (SigV4, checked by their handlers when keys are
      // configured; any, as emulators take them, when not). Only the routes that serve them are
      // let through, whatever headers a request carries: an X-Amz-Target or an AWS4
      // Authorization on a REST or WebSocket route does not pass for the token.
      if (isAwsRoute(request)) return;
      const given = bearer(request);
      if (
        given !== undefined &&
        given.length === expected.length &&
        timingSafeEqual(given, expected)
      )
        return;
      await reply.status(401).send({
        error: {
          code: "SLUICE_UNAUTHORIZED",
          name: "Unauthorized",
          message: "a valid Bearer token is required",
        },
      });
    });
  }
}

/** Whether the route a request matched is one of the AWS protocols' (see registerAwsProtocols). */
function isAwsRoute(request: FastifyRequest): boolean {
  const route = request.routeOptions.url;
  if (route === "/:account/:name") return true;
  return route === "/" && (request.method === "POST" || isAwsQueryGet(request));
}

function bearer(request: FastifyRequest): Buffer | undefined {
  const header = request.headers.authorization;
  if (header?.startsWith("Bearer ") === true) return Buffer.from(header.slice(7));
  const query = request.query as Record<string, unknown> | undefined;
  return typeof query?.token === "string" ? Buffer.from(query.token) : undefined;
}
