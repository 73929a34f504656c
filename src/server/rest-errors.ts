import type { FastifyError, FastifyInstance } from "fastify";
import { isSluiceError } from "../errors/index.js";
import { isQueueError } from "../messaging/queues/index.js";
import { schemaViolation } from "./schema-violation.js";

/** The body of every REST error: a stable code, the primitive's own name for it, the field. */
export interface RestErrorBody {
  readonly error: {
    readonly code: string;
    /** The primitive's name for the error (SQS's for queues, e.g. "QueueDoesNotExist"). */
    readonly name: string;
    readonly message: string;
    readonly field?: string;
    /** Machine-readable context (a stream's actual version, a topic's partition, …). */
    readonly details?: Readonly<Record<string, unknown>>;
  };
}

/** The primitive's own name of an error: SQS's, Kafka's, SNS's, EventBridge's, or the class's. */
function primitiveName(error: Error): string {
  const named = error as Error & {
    sqsError?: string;
    kafkaError?: string;
    snsError?: string;
    ebError?: string;
  };
  return named.sqsError ?? named.kafkaError ?? named.snsError ?? named.ebError ?? error.name;
}

const STATUS_BY_CODE: Record<string, number> = {
  SLUICE_NOT_FOUND: 404,
  SLUICE_ALREADY_EXISTS: 409,
  SLUICE_CONCURRENCY: 409,
  SLUICE_STREAM_DELETED: 410,
  SLUICE_UNAUTHORIZED: 401,
  SLUICE_CLOSED: 503,
  // a backend did not answer in time (a write's outcome unknown): the server's failure, not the request's
  SLUICE_TIMEOUT: 504,
  SLUICE_INTERNAL: 500,
  SLUICE_IO: 500,
  SLUICE_CORRUPT: 500,
};

/**
 * Answers errors of REST routes as `RestErrorBody`: Sluice errors by their code, schema
 * violations as 400 naming the field, anything unexpected as a logged 500.
 */
export function installRestErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (isQueueError(error) || isSluiceError(error))
      return reply.status(STATUS_BY_CODE[error.code] ?? 400).send(restError(error));
    if (error.validation !== undefined) {
      const { field, message } = schemaViolation(
        error.validation,
        error.validationContext ?? "body",
      );
      return reply
        .status(400)
        .send(body("SLUICE_VALIDATION", "InvalidParameterValue", message, field));
    }
    const status = error.statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err: error }, "request failed");
      return reply
        .status(status)
        .send(body("SLUICE_INTERNAL", "InternalError", "the server failed to handle the request"));
    }
    return reply
      .status(status)
      .send(body("SLUICE_VALIDATION", error.code ?? "BadRequest", error.message));
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .send(
        body(
          "SLUICE_NOT_FOUND",
          "NotFound",
          `no route ${request.method} ${request.url.split("?")[0]}`,
        ),
      ),
  );
}

/** An error as a REST error body (also sent on streams). */
export function restError(error: unknown): RestErrorBody {
  if (isQueueError(error) || isSluiceError(error))
    return body(
      error.code,
      primitiveName(error),
      error.message,
      error.field,
      isSluiceError(error) ? error.details : undefined,
    );
  if (error instanceof SyntaxError)
    return body("SLUICE_VALIDATION", "InvalidParameterValue", error.message);
  return body("SLUICE_INTERNAL", "InternalError", "the server failed to handle the request");
}

function body(
  code: string,
  name: string,
  message: string,
  field?: string,
  details?: Readonly<Record<string, unknown>>,
): RestErrorBody {
  return {
    error: {
      code,
      name,
      message,
      ...(field === undefined ? {} : { field }),
      ...(details === undefined ? {} : { details }),
    },
  };
}
