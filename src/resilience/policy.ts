/** What a policy hands the function it runs. */
export interface PolicyContext {
  /**
   * Aborts when the caller's signal aborts, or when an enclosing timeout or hedge gives up on
   * this attempt. Reading it may allocate, so read it only when you will pass it on.
   */
  readonly signal: AbortSignal;
  /** 1 for the first try; retry and hedging count up from there. */
  readonly attempt: number;
}

/** The function a policy runs: may return a value or a promise, may throw. */
export type PolicyFn<T> = (context: PolicyContext) => PromiseLike<T> | T;

/**
 * A resilience policy. `R` is what the policy may return instead of the function's own result
 * (a fallback's value); it is `never` for every policy that only passes results through.
 */
export interface Policy<R = never> {
  execute<T>(fn: PolicyFn<T>, signal?: AbortSignal): Promise<T | R>;
}

/**
 * @internal The context as policies see it. `abortable()` returns the signal only if something
 * can ever abort it, so layers can skip listeners (and allocations) when nothing can.
 */
export interface CallContext extends PolicyContext {
  abortable(): AbortSignal | undefined;
}

/** @internal One link of a composed chain: a policy and the rest of the chain inside it. */
export interface Link {
  readonly policy: PolicyBase<unknown>;
  readonly next: Link | null;
}

/**
 * The base of every Sluice policy. Composition passes the chain down as links instead of
 * building a closure per layer per call, which is most of what makes `wrap` cheap.
 */
export abstract class PolicyBase<R = never> implements Policy<R> {
  /** Type only: carries `R` so that `wrap` can work out what a composition may return. */
  declare readonly alternativeType?: R;

  /** Runs `fn` through this policy; `signal` cancels waiting and is passed on to `fn`. */
  execute<T>(fn: PolicyFn<T>, signal?: AbortSignal): Promise<T | R> {
    return this.run(fn, new RootContext(signal), null);
  }

  /** @internal Runs this policy around `next` (or around `fn` when `next` is null). */
  abstract run<T>(fn: PolicyFn<T>, context: CallContext, next: Link | null): Promise<T | R>;
}

/** @internal Runs the rest of the chain: the next policy, or the user's function. */
export function proceed<T>(
  fn: PolicyFn<T>,
  context: CallContext,
  next: Link | null,
): PromiseLike<T> | T {
  // A link may hold a fallback whose value is not a T; its type is accounted for by wrap().
  return next === null ? fn(context) : (next.policy.run(fn, context, next.next) as Promise<T>);
}

/** @internal The context of a top-level call. Allocates a signal only if `fn` reads one. */
export class RootContext implements CallContext {
  private ownSignal: AbortSignal | undefined;

  constructor(private readonly callerSignal: AbortSignal | undefined) {}

  get signal(): AbortSignal {
    return this.callerSignal ?? (this.ownSignal ??= new AbortController().signal);
  }

  get attempt(): number {
    return 1;
  }

  abortable(): AbortSignal | undefined {
    return this.callerSignal;
  }
}

/** @internal The same signal as the parent, with a different attempt number. */
export class AttemptContext implements CallContext {
  constructor(
    private readonly parent: CallContext,
    readonly attempt: number,
  ) {}

  get signal(): AbortSignal {
    return this.parent.signal;
  }

  abortable(): AbortSignal | undefined {
    return this.parent.abortable();
  }
}

/** Adapts a context handed out by a policy that is not a PolicyBase. */
class ForeignContext implements CallContext {
  constructor(private readonly inner: PolicyContext) {}

  get signal(): AbortSignal {
    return this.inner.signal;
  }

  get attempt(): number {
    return this.inner.attempt;
  }

  abortable(): AbortSignal | undefined {
    return this.inner.signal;
  }
}

/** @internal Lets any object with `execute` take part in `wrap` (at the cost of a closure). */
export class ForeignPolicy extends PolicyBase<unknown> {
  constructor(private readonly inner: Policy<unknown>) {
    super();
  }

  run<T>(fn: PolicyFn<T>, context: CallContext, next: Link | null): Promise<unknown> {
    return this.inner.execute(
      (innerContext) => proceed(fn, new ForeignContext(innerContext), next),
      context.signal,
    );
  }
}

/** A policy that only runs the function; useful as a default and in tests. */
export class NoopPolicy extends PolicyBase {
  async run<T>(fn: PolicyFn<T>, context: CallContext, next: Link | null): Promise<T> {
    return proceed(fn, context, next);
  }
}

/** The policy that does nothing. */
export const noop: NoopPolicy = new NoopPolicy();
