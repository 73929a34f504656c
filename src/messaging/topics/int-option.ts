import { invalidTopicInput } from "./topic-error.js";

/** The longest delay a timer takes: Node runs a longer setTimeout after 1 ms instead. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * An integer option from `min` to `max`, or `fallback` when unset; anything else is an
 * INVALID_CONFIG error naming `field`. Options that set a timer take MAX_TIMER_MS as `max`.
 */
export function intOption(
  value: unknown,
  field: string,
  min: number,
  fallback: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max)
    throw invalidTopicInput(
      field,
      max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`,
      value,
      "INVALID_CONFIG",
    );
  return value;
}
