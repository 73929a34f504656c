import { type ErrorCode, SluiceError } from "../../errors/index.js";

/** EventBridge's exception names, so callers (and an EventBridge-compatible API) can branch on them. */
export type BusErrorName =
  | "ValidationException"
  | "InvalidEventPatternException"
  | "ResourceNotFoundException"
  | "ResourceAlreadyExistsException"
  | "LimitExceededException"
  | "IllegalStatusException";

const CODES: Record<BusErrorName, ErrorCode> = {
  ValidationException: "SLUICE_VALIDATION",
  InvalidEventPatternException: "SLUICE_VALIDATION",
  ResourceNotFoundException: "SLUICE_NOT_FOUND",
  ResourceAlreadyExistsException: "SLUICE_ALREADY_EXISTS",
  LimitExceededException: "SLUICE_VALIDATION",
  IllegalStatusException: "SLUICE_CONCURRENCY",
};

/** An event bus error: `ebError` is EventBridge's name for it, `code` the Sluice-wide code. */
export class BusError extends SluiceError {
  constructor(
    readonly ebError: BusErrorName,
    message: string,
    field?: string,
    options: ErrorOptions = {},
  ) {
    super(CODES[ebError], message, { ...(field === undefined ? {} : { field }), ...options });
  }
}

export function isBusError(error: unknown, name?: BusErrorName): error is BusError {
  return error instanceof BusError && (name === undefined || error.ebError === name);
}

/** A ValidationException naming the field and what was expected. */
export function invalidField(field: string, expected: string): BusError {
  return new BusError("ValidationException", `${field}: ${expected}`, field);
}

/** A call's input: an object of request parameters (plain JavaScript may pass anything). */
export function checkRequest<T>(input: T): T {
  if (typeof input !== "object" || input === null || Array.isArray(input))
    throw invalidField("request", "an object of request parameters");
  return input;
}

export function notFound(what: string, field: string): BusError {
  return new BusError("ResourceNotFoundException", `${what} does not exist.`, field);
}
