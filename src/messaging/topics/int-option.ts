import { invalidTopicInput } from "./topic-error.js";

/**
 * An integer option from `min` to `max`, or `fallback` when unset; anything else is an
 * INVALID_CONFIG error naming `field`. Options that set a timer take the clock's MAX_TIMER_MS (24.8 days) as
 * `max`: more is a mistake (a linger or a session that long), and Node would run a plain timer
 * that long after 1 ms.
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
