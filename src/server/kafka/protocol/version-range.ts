// Kafka's version range notation: "3+", "0-4", "5" or "none".

/** An inclusive range of versions; `none` is the empty range. */
export interface VersionRange {
  readonly min: number;
  readonly max: number;
}

const NONE: VersionRange = { min: 1, max: 0 };

/** Parses a schema's version range ("3+", "0-4", "5", "none"). */
export function parseVersionRange(text: string): VersionRange {
  if (text === "none") return NONE;
  if (text.endsWith("+")) return { min: Number(text.slice(0, -1)), max: Number.MAX_SAFE_INTEGER };
  const dash = text.indexOf("-");
  if (dash < 0) return { min: Number(text), max: Number(text) };
  return { min: Number(text.slice(0, dash)), max: Number(text.slice(dash + 1)) };
}

/** Whether `version` lies in the range written as `text` (undefined means never). */
export function inRange(text: string | undefined, version: number): boolean {
  if (text === undefined) return false;
  const range = parseVersionRange(text);
  return version >= range.min && version <= range.max;
}
