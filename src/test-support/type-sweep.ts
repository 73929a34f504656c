/**
 * Sweeps an API with values of every JavaScript type a plain-JS caller (or a decoded request)
 * may pass, one argument or field at a time, and reports the failures that were not the API's
 * typed errors: a TypeError from deep inside means a shape nobody checked.
 */

export const WRONG_TYPES: readonly unknown[] = [
  undefined,
  null,
  0,
  -1,
  1.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  2 ** 53,
  "",
  "x",
  "$all",
  true,
  [],
  ["x"],
  [1],
  {},
  { x: 1 },
  Buffer.from("x"),
  () => "x",
  Symbol("x"),
  10n,
];

/** A copy of `value` with the part at `path` (keys and array indexes) replaced or removed. */
export function replaced(value: unknown, path: readonly (string | number)[], by: unknown): unknown {
  if (path.length === 0) return by;
  const [head, ...rest] = path;
  const copy = (
    Array.isArray(value) ? [...(value as unknown[])] : { ...(value as object) }
  ) as Record<string | number, unknown>;
  const inner = replaced(copy[head!] ?? {}, rest, by);
  if (inner === undefined && rest.length === 0) delete copy[head!];
  else copy[head!] = inner;
  return copy;
}

/** Where a swept value goes: `[argument index, ...path inside that argument]`. */
export type SweptPart = readonly [number, ...(string | number)[]];

/** One method swept: its valid arguments and the parts swept with every wrong type. */
export interface SweptMethod {
  readonly method: string;
  /** Valid arguments; each call gets fresh ones (a new name, say). */
  readonly args: () => unknown[];
  /** `[argument index, ...path inside it]` of each part swept with every wrong type. */
  readonly parts: readonly SweptPart[];
}

/**
 * Calls `call` once per part and wrong value, each time with fresh valid arguments from `args`
 * but for that part; returns "part = value: error" for every failure `isTyped` does not accept.
 */
export async function untypedFailures(
  args: () => unknown[],
  parts: readonly SweptPart[],
  call: (args: unknown[]) => Promise<unknown>,
  isTyped: (error: unknown) => boolean,
): Promise<string[]> {
  const untyped: string[] = [];
  for (const [argument, ...path] of parts)
    for (const wrong of WRONG_TYPES) {
      const given = args();
      given[argument] = replaced(given[argument], path, wrong);
      try {
        await call(given);
      } catch (error) {
        if (!isTyped(error))
          untyped.push(`${[argument, ...path].join(".")} = ${String(wrong)}: ${String(error)}`);
      }
    }
  return untyped;
}
