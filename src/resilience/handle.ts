import type { ErrorCode } from "../errors/index.js";
import { isSluiceError } from "../errors/index.js";

/** Why a call counted as failed: a handled error, or a result the handler rejects. */
export type FailureReason = { readonly error: unknown } | { readonly result: unknown };

type ErrorPredicate = (error: unknown) => boolean;
type ResultPredicate = (result: unknown) => boolean;
// Error classes take any constructor arguments; the instance type is what matters here.
type ErrorClass<E> = abstract new (...args: never[]) => E;

/**
 * Decides which errors and which results a policy treats as failures (retry retries them, a
 * breaker counts them, a fallback replaces them). Immutable: every `or*` returns a new handler.
 */
export class Handler {
  private constructor(
    private readonly errorPredicates: readonly ErrorPredicate[],
    private readonly resultPredicates: readonly ResultPredicate[],
  ) {}

  /** @internal */
  static create(errors: readonly ErrorPredicate[], results: readonly ResultPredicate[]): Handler {
    return new Handler(errors, results);
  }

  /** True when at least one result predicate is set, so successful results must be checked. */
  get checksResults(): boolean {
    return this.resultPredicates.length > 0;
  }

  /** Also handles errors that are instances of `type` (and pass `filter`, if given). */
  orType<E>(type: ErrorClass<E>, filter?: (error: E) => boolean): Handler {
    return this.orWhen(typePredicate(type, filter));
  }

  /** Also handles SluiceErrors with one of these codes. */
  orCode(...codes: ErrorCode[]): Handler {
    return this.orWhen((error) => codes.some((code) => isSluiceError(error, code)));
  }

  /** Also handles errors for which `predicate` returns true. */
  orWhen(predicate: (error: unknown) => boolean): Handler {
    return new Handler([...this.errorPredicates, predicate], this.resultPredicates);
  }

  /** Also treats results for which `predicate` returns true as failures. */
  orWhenResult<R>(predicate: (result: R) => boolean): Handler {
    return new Handler(this.errorPredicates, [
      ...this.resultPredicates,
      predicate as ResultPredicate,
    ]);
  }

  /** True when this handler treats `error` as a failure. */
  handlesError(error: unknown): boolean {
    const predicates = this.errorPredicates;
    for (let i = 0; i < predicates.length; i++) if (predicates[i]!(error)) return true;
    return false;
  }

  /** True when this handler treats the successful result `result` as a failure. */
  handlesResult(result: unknown): boolean {
    const predicates = this.resultPredicates;
    for (let i = 0; i < predicates.length; i++) if (predicates[i]!(result)) return true;
    return false;
  }
}

function typePredicate<E>(type: ErrorClass<E>, filter?: (error: E) => boolean): ErrorPredicate {
  return (error) => error instanceof type && (filter === undefined || filter(error));
}

/** Handles every thrown error. */
export const handleAll: Handler = Handler.create([() => true], []);

/** Handles nothing (add cases with `or*`). */
export const handleNone: Handler = Handler.create([], []);

/** Handles errors that are instances of `type` (and pass `filter`, if given). */
export function handleType<E>(type: ErrorClass<E>, filter?: (error: E) => boolean): Handler {
  return handleNone.orType(type, filter);
}

/** Handles SluiceErrors with one of these codes. */
export function handleCode(...codes: ErrorCode[]): Handler {
  return handleNone.orCode(...codes);
}

/** Handles errors for which `predicate` returns true. */
export function handleWhen(predicate: (error: unknown) => boolean): Handler {
  return handleNone.orWhen(predicate);
}

/** Treats results for which `predicate` returns true as failures (errors are not handled). */
export function handleWhenResult<R>(predicate: (result: R) => boolean): Handler {
  return handleNone.orWhenResult(predicate);
}

/**
 * Handles every error except Sluice's own fast rejections (broken or isolated circuit, full
 * bulkhead, rate limit), which say nothing new about the downstream and would only waste
 * attempts: the default for retry.
 */
export const handleTransient: Handler = handleWhen(
  (error) =>
    !(
      isSluiceError(error, "SLUICE_BROKEN_CIRCUIT") ||
      isSluiceError(error, "SLUICE_ISOLATED_CIRCUIT") ||
      isSluiceError(error, "SLUICE_BULKHEAD_REJECTED") ||
      isSluiceError(error, "SLUICE_RATE_LIMITED") ||
      isSluiceError(error, "SLUICE_ABORTED")
    ),
);
