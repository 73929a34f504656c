/** Stable error codes: callers branch on these, never on message text. */
export type ErrorCode =
  | "SLUICE_VALIDATION"
  | "SLUICE_CLOSED"
  | "SLUICE_CORRUPT"
  | "SLUICE_LOCKED"
  | "SLUICE_NOT_FOUND"
  | "SLUICE_OFFSET_OUT_OF_RANGE"
  | "SLUICE_ALREADY_EXISTS"
  | "SLUICE_IO"
  | "SLUICE_CONCURRENCY"
  | "SLUICE_TIMEOUT"
  | "SLUICE_ABORTED"
  | "SLUICE_BROKEN_CIRCUIT"
  | "SLUICE_ISOLATED_CIRCUIT"
  | "SLUICE_BULKHEAD_REJECTED"
  | "SLUICE_RATE_LIMITED"
  | "SLUICE_RETRY_BUDGET_EXHAUSTED"
  | "SLUICE_QUEUE"
  | "SLUICE_TOPIC"
  | "SLUICE_STREAM_DELETED"
  | "SLUICE_PROJECTION"
  /** A server refused the caller's credentials (REST token, AWS signature). */
  | "SLUICE_UNAUTHORIZED"
  | "SLUICE_INTERNAL";

export interface SluiceErrorOptions extends ErrorOptions {
  /** The offending input field, e.g. `records[3].value` or `VisibilityTimeout`. */
  readonly field?: string;
  /** Extra machine-readable context (segment file, offset, pid, ...). */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** The one error type Sluice throws on purpose; `code` is stable, `field` names bad input. */
export class SluiceError extends Error {
  readonly field: string | undefined;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: SluiceErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.field = options.field;
    this.details = options.details;
  }
}

/** A validation error naming the field and what was expected. */
export function invalid(field: string, expected: string, got?: unknown): SluiceError {
  const shown = got === undefined ? "" : `, got ${describeValue(got)}`;
  return new SluiceError("SLUICE_VALIDATION", `${field}: expected ${expected}${shown}`, { field });
}

export function isSluiceError(error: unknown, code?: ErrorCode): error is SluiceError {
  return error instanceof SluiceError && (code === undefined || error.code === code);
}

/** The longest part of a string an error message quotes: a whole URL or ARN, never a body. */
const QUOTED_CHARS = 200;

/**
 * A value as an error message shows it: strings quoted (cut at 200 characters), numbers,
 * booleans and null as they are, anything else by its kind. Safe for every type (a BigInt or a
 * Symbol, which JSON.stringify and template literals throw on).
 */
export function describeValue(value: unknown): string {
  if (typeof value === "string")
    return JSON.stringify(value.length > QUOTED_CHARS ? `${value.slice(0, QUOTED_CHARS)}…` : value);
  if (typeof value === "number" || typeof value === "boolean" || value === null)
    return String(value);
  if (value === undefined) return "undefined";
  if (Buffer.isBuffer(value)) return `a ${value.length}-byte buffer`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === "bigint") return `the bigint ${value}n`;
  if (typeof value === "object") return "an object";
  return `a ${typeof value}`;
}

/** Anything caught, as an Error (non-Error throwables are wrapped). */
export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
