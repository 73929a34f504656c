import { invalidField } from "./bus-error.js";

/** A parsed `rate(...)` or `cron(...)` expression that can say when it next fires. */
export interface Schedule {
  readonly expression: string;
  /**
   * The first firing time strictly after `afterMs` (UTC), or undefined if there is none. A rate
   * beats from `anchorMs`, when its rule was given the schedule (as EventBridge counts a rate
   * from the rule's creation); a cron ignores it.
   */
  next(afterMs: number, anchorMs?: number): number | undefined;
}

const UNITS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/**
 * Parses EventBridge's schedule expressions: `rate(value unit)` (minute(s), hour(s), day(s);
 * singular for 1) and `cron(minutes hours day-of-month month day-of-week year)` in UTC, with
 * `*`, `?`, lists, ranges, steps and month/day names. `L`, `W` and `#` are refused as not
 * supported, naming the field.
 */
export function parseSchedule(text: unknown, field = "ScheduleExpression"): Schedule {
  if (typeof text !== "string")
    throw invalidField(field, "Parameter ScheduleExpression is not valid.");
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(text);
  if (rate !== null) {
    const value = Number(rate[1]);
    const unit = rate[2]!;
    if (value < 1 || (value === 1) !== !unit.endsWith("s"))
      throw invalidField(
        field,
        `Parameter ScheduleExpression is not valid: ${text} (use a positive value, singular unit for 1)`,
      );
    const periodMs = value * UNITS[unit.replace(/s$/, "")]!;
    // The anchor is stored with the rule, so a restart keeps the same beat.
    return {
      expression: text,
      next: (after, anchor = 0) =>
        anchor + (Math.floor((after - anchor) / periodMs) + 1) * periodMs,
    };
  }
  const cron = /^cron\((.*)\)$/.exec(text);
  if (cron === null)
    throw invalidField(field, `Parameter ScheduleExpression is not valid: ${text}`);
  const parts = cron[1]!.trim().split(/\s+/);
  if (parts.length !== 6)
    throw invalidField(
      field,
      `cron needs 6 fields (minutes hours day-of-month month day-of-week year), got ${parts.length}`,
    );
  const [min, hour, dom, month, dow, year] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if ((dom === "?") === (dow === "?"))
    throw invalidField(field, "cron: exactly one of day-of-month and day-of-week must be ?");
  const minutes = parseField(min, 0, 59, [], `${field}.minutes`);
  const hours = parseField(hour, 0, 23, [], `${field}.hours`);
  const days = dom === "?" ? undefined : parseField(dom, 1, 31, [], `${field}.day-of-month`);
  const months = parseField(month, 1, 12, MONTHS, `${field}.month`);
  const weekdays = dow === "?" ? undefined : parseField(dow, 1, 7, DAYS, `${field}.day-of-week`);
  const years = parseField(year, 1970, 2199, [], `${field}.year`);
  return {
    expression: text,
    next(after) {
      // Walk forward day by day, then minute by minute within a matching day.
      const start = new Date(Math.floor(after / 60_000) * 60_000 + 60_000);
      let day = Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate());
      for (let n = 0; n < 366 * 30; n++, day += 86_400_000) {
        const d = new Date(day);
        if (!years.has(d.getUTCFullYear())) {
          if (d.getUTCFullYear() > Math.max(...years)) return undefined;
          continue;
        }
        if (!months.has(d.getUTCMonth() + 1)) continue;
        if (days !== undefined && !days.has(d.getUTCDate())) continue;
        if (weekdays !== undefined && !weekdays.has(d.getUTCDay() + 1)) continue;
        for (const h of [...hours].sort((a, b) => a - b))
          for (const m of [...minutes].sort((a, b) => a - b)) {
            const at = day + h * 3_600_000 + m * 60_000;
            if (at > after) return at;
          }
      }
      return undefined;
    },
  };
}

function parseField(
  text: string,
  low: number,
  high: number,
  names: readonly string[],
  field: string,
): Set<number> {
  const values = new Set<number>();
  const value = (token: string): number => {
    const named = names.indexOf(token.toUpperCase());
    const n = named >= 0 ? named + low : Number(token);
    if (!/^\d+$/.test(token) && named < 0)
      throw invalidField(
        field,
        `${JSON.stringify(token)} is not a value (L, W and # are not supported)`,
      );
    if (!Number.isInteger(n) || n < low || n > high)
      throw invalidField(field, `${token} is out of range ${low}-${high}`);
    return n;
  };
  for (const item of text.split(",")) {
    const [range = "", stepText] = item.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1)
      throw invalidField(field, `bad step in ${JSON.stringify(item)}`);
    let from: number;
    let to: number;
    if (range === "*") [from, to] = [low, high];
    else if (range.includes("-")) {
      const [a = "", b = ""] = range.split("-");
      [from, to] = [value(a), value(b)];
      if (from > to) throw invalidField(field, `range ${range} goes backwards`);
    } else {
      from = value(range);
      to = stepText === undefined ? from : high;
    }
    for (let n = from; n <= to; n += step) values.add(n);
  }
  return values;
}
