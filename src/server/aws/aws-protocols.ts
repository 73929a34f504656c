import { randomUUID } from "node:crypto";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ERROR_FIELD_HEADER } from "../../errors/index.js";
import { AwsError, malformedRequest, unknownOperation } from "./aws-error.js";
import { QueryParams } from "./query-params.js";
import type { SigV4Verifier } from "./sigv4.js";
import { type XmlElement, escapeXml, toXml } from "./xml.js";
import { requestSignal } from "../request-signal.js";

/** What a handler knows about the request it serves. */
export interface AwsRequestContext {
  /** The request path: query-protocol SDKs may post to a queue URL instead of `/`. */
  readonly path: string;
  /** Aborts when the client goes away or the server shuts down (ends long polls early). */
  readonly signal: AbortSignal;
}

/** A service spoken in AWS JSON 1.0/1.1: `POST /` with `X-Amz-Target: <prefix>.<Operation>`. */
export interface AwsJsonService {
  /** Shown on the index page, e.g. "SQS". */
  readonly name: string;
  readonly targetPrefix: string;
  readonly jsonVersion: "1.0" | "1.1";
  /** Prefix of `__type` in errors, e.g. "com.amazonaws.sqs#". */
  readonly errorNamespace: string;
  /**
   * Whether the service was moved from the query protocol (AWS's `awsQueryCompatible`, as SQS
   * was): its errors then carry the legacy code in `x-amzn-query-error`, which boto3 reports
   * instead of `__type`. A service born in JSON (EventBridge) sends no such header.
   */
  readonly queryCompatible: boolean;
  /** The operation's result as JSON; unknown operations throw `unknownOperation`. */
  call(
    operation: string,
    input: Record<string, unknown>,
    context: AwsRequestContext,
  ): Promise<unknown>;
  /** The protocol error for an error the service threw, or undefined for an unexpected one. */
  toAwsError(error: unknown): AwsError | undefined;
}

/** A service spoken in the AWS query protocol: form-encoded `Action=...`, XML answers. */
export interface AwsQueryService {
  readonly name: string;
  /** The API version clients send (`Version=2012-11-05` for SQS). */
  readonly version: string;
  readonly xmlNamespace: string;
  handles(action: string): boolean;
  /** The content of `<ActionResult>`, or undefined for an operation with an empty result. */
  call(
    action: string,
    params: QueryParams,
    context: AwsRequestContext,
  ): Promise<XmlElement | undefined>;
  toAwsError(error: unknown): AwsError | undefined;
}

export interface AwsServices {
  readonly json: readonly AwsJsonService[];
  readonly query: readonly AwsQueryService[];
  /** When set, requests must carry a valid SigV4 signature of a configured key. */
  readonly verifier?: SigV4Verifier;
}

/**
 * Query actions served without a signature even when keys are configured: an HTTP endpoint
 * confirms its subscription by visiting the SubscribeURL, whose token is the credential.
 */
const UNSIGNED_ACTIONS = new Set(["ConfirmSubscription"]);

type Logger = FastifyInstance["log"];

/**
 * Routes AWS-protocol requests to the services that speak them: JSON by `X-Amz-Target`, query
 * by `Action` (and `Version` when several services could take it), on `/` and on any
 * `/<account>/<name>` path (query SDKs post to the queue URL).
 */
export function registerAwsProtocols(
  app: FastifyInstance,
  services: AwsServices,
  shutdown: AbortSignal,
): void {
  if (services.json.length === 0 && services.query.length === 0) return;
  const handle = (request: FastifyRequest, reply: FastifyReply): Promise<void> =>
    serveAws(request, reply, services, shutdown, app.log);
  // Any two-part path may be a queue URL, so only a request that is an AWS call is taken there:
  // the rest (`GET /streams/x`, a typo of a REST route) get the server's own 404, not an XML
  // InvalidAction.
  const handleAtQueueUrl = (request: FastifyRequest, reply: FastifyReply): unknown =>
    isAwsCall(request) ? handle(request, reply) : reply.callNotFound();
  // What fails before a handler runs (a body over the limit, a content type no parser takes) is
  // answered in the protocol's own error format too, as SDKs parse it.
  const errorHandler = (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void =>
    sendRequestError(error, request, reply, services);
  app.post("/", { errorHandler }, handle);
  app.post("/:account/:name", { errorHandler }, handleAtQueueUrl);
  app.get("/:account/:name", { errorHandler }, handleAtQueueUrl);
}

/** A request refused before its handler ran, in its protocol's error format. */
function sendRequestError(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
  services: AwsServices,
): void {
  const status = error.statusCode !== undefined && error.statusCode < 500 ? error.statusCode : 500;
  const refused =
    status === 413
      ? new AwsError(
          "RequestEntityTooLarge",
          `the request body is over the limit: ${error.message}`,
          {
            status,
          },
        )
      : status < 500
        ? new AwsError("InvalidRequest", error.message, { status, queryCode: "InvalidRequest" })
        : new AwsError("InternalFailure", "the server failed to handle the request", {
            queryCode: "InternalError",
            senderFault: false,
          });
  if (status >= 500) request.log.error({ err: error }, "AWS API request failed");
  const target = request.headers["x-amz-target"];
  if (typeof target === "string") {
    const { service, contentType } = jsonTarget(services, target);
    return sendJsonError(
      reply,
      service?.errorNamespace ?? "",
      refused,
      contentType,
      service?.queryCompatible ?? false,
    );
  }
  sendXmlError(reply, services.query[0]?.xmlNamespace ?? "", refused, randomUUID());
}

/** The JSON service an `X-Amz-Target` (`<prefix>.<operation>`) names, and its content type. */
function jsonTarget(
  services: AwsServices,
  target: string,
): { service: AwsJsonService | undefined; operation: string; contentType: string } {
  const dot = target.lastIndexOf(".");
  const service = services.json.find((s) => s.targetPrefix === target.slice(0, dot));
  return {
    service,
    operation: target.slice(dot + 1),
    contentType: `application/x-amz-json-${service?.jsonVersion ?? "1.0"}`,
  };
}

/** Whether a request carries an AWS call: an `X-Amz-Target`, or an `Action` (query or form). */
function isAwsCall(request: FastifyRequest): boolean {
  if (typeof request.headers["x-amz-target"] === "string") return true;
  return /(?:^|[?&])Action=/.test(request.url) || /(?:^|&)Action=/.test(queryText(request));
}

/** Whether a GET on `/` carries a query-protocol call rather than asking for the index page. */
export function isAwsQueryGet(request: FastifyRequest): boolean {
  return request.url.includes("Action=");
}

/** Serves one AWS-protocol request (also used by the index route for `GET /?Action=...`). */
export async function serveAws(
  request: FastifyRequest,
  reply: FastifyReply,
  services: AwsServices,
  shutdown: AbortSignal,
  log: Logger,
): Promise<void> {
  const requestId = randomUUID();
  void reply.header("x-amzn-requestid", requestId);
  let signal: AbortSignal | undefined;
  const context: AwsRequestContext = {
    path: request.url.split("?")[0] ?? "/",
    // Made on first use: only long polls wait, and a signal costs listeners on every request.
    get signal() {
      return (signal ??= requestSignal(reply, shutdown));
    },
  };
  const target = request.headers["x-amz-target"];
  if (typeof target === "string") {
    const { service, operation, contentType } = jsonTarget(services, target);
    const denied = verifySignature(services, request);
    if (denied !== undefined)
      return sendJsonError(reply, "", denied, contentType, service?.queryCompatible ?? false);
    if (service !== undefined) return serveJson(service, operation, request, reply, context, log);
    return sendJsonError(
      reply,
      "com.amazon.coral.service#",
      unknownOperation(target),
      contentType,
      false,
    );
  }
  const xmlNamespace = services.query[0]?.xmlNamespace ?? "";
  let params: QueryParams;
  try {
    params = QueryParams.parse(queryText(request));
  } catch (error) {
    const denied = verifySignature(services, request);
    return sendXmlError(
      reply,
      xmlNamespace,
      denied ?? asAwsError(error, undefined, log),
      requestId,
    );
  }
  const action = params.string("Action") ?? "";
  const version = params.string("Version");
  // An action no service takes is refused in the namespace of the API the Version names.
  const versionNamespace =
    services.query.find((s) => s.version === version)?.xmlNamespace ?? xmlNamespace;
  const service =
    services.query.find(
      (s) => s.handles(action) && (version === undefined || s.version === version),
    ) ?? services.query.find((s) => s.handles(action));
  if (!UNSIGNED_ACTIONS.has(action)) {
    const denied = verifySignature(services, request);
    if (denied !== undefined)
      return sendXmlError(reply, service?.xmlNamespace ?? versionNamespace, denied, requestId);
  }
  if (service === undefined)
    return sendXmlError(
      reply,
      versionNamespace,
      unknownOperation(action || "(no Action)"),
      requestId,
    );
  try {
    const result = await service.call(action, params, context);
    const body =
      `<?xml version="1.0"?><${action}Response xmlns="${service.xmlNamespace}">` +
      (result === undefined ? "" : `<${action}Result>${toXml(result)}</${action}Result>`) +
      `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`;
    await reply.type("text/xml").send(body);
  } catch (error) {
    sendXmlError(reply, service.xmlNamespace, asAwsError(error, service, log), requestId);
  }
}

async function serveJson(
  service: AwsJsonService,
  operation: string,
  request: FastifyRequest,
  reply: FastifyReply,
  context: AwsRequestContext,
  log: Logger,
): Promise<void> {
  const contentType = `application/x-amz-json-${service.jsonVersion}`;
  let input: unknown;
  try {
    const text = typeof request.body === "string" ? request.body : "";
    input = text.trim() === "" ? {} : JSON.parse(text);
  } catch {
    return sendJsonError(
      reply,
      service.errorNamespace,
      malformedRequest("the body is not valid JSON"),
      contentType,
      service.queryCompatible,
    );
  }
  if (typeof input !== "object" || input === null || Array.isArray(input))
    return sendJsonError(
      reply,
      service.errorNamespace,
      malformedRequest("the body must be a JSON object"),
      contentType,
      service.queryCompatible,
    );
  try {
    const result = await service.call(operation, input as Record<string, unknown>, context);
    await reply.type(contentType).send(JSON.stringify(result ?? {}));
  } catch (error) {
    sendJsonError(
      reply,
      service.errorNamespace,
      asAwsError(error, service, log),
      contentType,
      service.queryCompatible,
    );
  }
}

function asAwsError(
  error: unknown,
  service: AwsJsonService | AwsQueryService | undefined,
  log: Logger,
): AwsError {
  if (error instanceof AwsError) return error;
  const mapped = service?.toAwsError(error);
  if (mapped !== undefined) return mapped;
  log.error({ err: error }, "AWS API request failed");
  return new AwsError("InternalFailure", "the server failed to handle the request", {
    queryCode: "InternalError",
    senderFault: false,
  });
}

function queryErrorHeader(error: AwsError): string {
  return `${error.queryCode};${error.senderFault ? "Sender" : "Receiver"}`;
}

function sendJsonError(
  reply: FastifyReply,
  namespace: string,
  error: AwsError,
  contentType: string,
  queryCompatible: boolean,
): void {
  if (error.field !== undefined)
    void reply.header(ERROR_FIELD_HEADER, encodeURIComponent(error.field));
  if (queryCompatible) void reply.header("x-amzn-query-error", queryErrorHeader(error));
  void reply
    .status(error.status)
    .type(contentType)
    .send(JSON.stringify({ __type: `${namespace}${error.awsCode}`, message: error.message }));
}

function sendXmlError(
  reply: FastifyReply,
  namespace: string,
  error: AwsError,
  requestId: string,
): void {
  if (error.field !== undefined)
    void reply.header(ERROR_FIELD_HEADER, encodeURIComponent(error.field));
  void reply
    .status(error.status)
    .header("x-amzn-query-error", queryErrorHeader(error))
    .type("text/xml")
    .send(
      `<?xml version="1.0"?><ErrorResponse xmlns="${namespace}"><Error>` +
        `<Type>${error.senderFault ? "Sender" : "Receiver"}</Type>` +
        `<Code>${escapeXml(error.queryCode)}</Code><Message>${escapeXml(error.message)}</Message>` +
        `<Detail/></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
    );
}

/** Undefined when no keys are configured or the request is signed with one; else the error. */
function verifySignature(services: AwsServices, request: FastifyRequest): AwsError | undefined {
  return services.verifier?.verify({
    method: request.method,
    url: request.url,
    headers: request.headers,
    body: typeof request.body === "string" ? request.body : "",
  });
}

/** The form body of a POST, or the query string of a GET. */
function queryText(request: FastifyRequest): string {
  if (request.method === "POST") return typeof request.body === "string" ? request.body : "";
  const q = request.url.indexOf("?");
  return q < 0 ? "" : request.url.slice(q + 1);
}
