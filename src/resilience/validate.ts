import { invalid } from "../errors/index.js";

/** Validates a non-negative, finite number of milliseconds. */
export function checkDelay(field: string, value: number): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw invalid(field, "a finite number of milliseconds >= 0", value);
  }
}

/** Validates an integer in [min, max]. */
export function checkInteger(
  field: string,
  value: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(
      field,
      max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer in [${min}, ${max}]`,
      value,
    );
  }
}

/** Validates a ratio in (0, 1]. */
export function checkRatio(field: string, value: number): void {
  if (typeof value !== "number" || !(value > 0 && value <= 1)) {
    throw invalid(field, "a ratio in (0, 1]", value);
  }
}

/** Validates a finite number of milliseconds > 0. */
export function checkPositiveMs(field: string, value: number): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw invalid(field, "a finite number of milliseconds > 0", value);
  }
}

/** Validates that `value` is one of `allowed`. */
export function checkOneOf<T extends string>(field: string, value: T, allowed: readonly T[]): void {
  if (!allowed.includes(value)) {
    throw invalid(field, `one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}`, value);
  }
}
