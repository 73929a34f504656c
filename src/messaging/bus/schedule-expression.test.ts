import { describe, expect, it } from "vitest";
import { parseSchedule } from "./schedule-expression.js";

const at = (iso: string): number => Date.parse(iso);
const next = (expression: string, after: string): string | undefined => {
  const t = parseSchedule(expression).next(at(after));
  return t === undefined ? undefined : new Date(t).toISOString();
};

describe("schedule expressions (EventBridge syntax)", () => {
  it("rate: fixed periods on a steady beat", () => {
    expect(next("rate(5 minutes)", "2026-01-01T00:03:10Z")).toBe("2026-01-01T00:05:00.000Z");
    expect(next("rate(1 hour)", "2026-01-01T00:00:00Z")).toBe("2026-01-01T01:00:00.000Z");
    expect(next("rate(2 days)", "2026-01-01T00:00:00Z")).toBe("2026-01-03T00:00:00.000Z");
  });

  it("cron: EventBridge's documented examples", () => {
    // 10:15 UTC every day
    expect(next("cron(15 10 * * ? *)", "2026-03-01T11:00:00Z")).toBe("2026-03-02T10:15:00.000Z");
    // 18:00 Monday to Friday
    expect(next("cron(0 18 ? * MON-FRI *)", "2026-03-06T18:00:00Z")).toBe(
      "2026-03-09T18:00:00.000Z",
    );
    // 8:00 on the first day of every month
    expect(next("cron(0 8 1 * ? *)", "2026-03-01T08:00:00Z")).toBe("2026-04-01T08:00:00.000Z");
    // every 10 minutes on weekdays
    expect(next("cron(0/10 * ? * MON-FRI *)", "2026-03-06T23:55:00Z")).toBe(
      "2026-03-09T00:00:00.000Z",
    );
    // every 5 minutes between 8:00 and 17:55 weekdays
    expect(next("cron(0/5 8-17 ? * MON-FRI *)", "2026-03-02T17:56:00Z")).toBe(
      "2026-03-03T08:00:00.000Z",
    );
    // a year that has passed never fires
    expect(next("cron(0 0 1 1 ? 2020)", "2026-01-01T00:00:00Z")).toBeUndefined();
  });

  it("refuses malformed expressions, naming the field", () => {
    const fieldOf = (text: string): string | undefined => {
      try {
        parseSchedule(text);
      } catch (error) {
        return (error as { field?: string }).field;
      }
      return "accepted";
    };
    expect(fieldOf("rate(0 minutes)")).toBe("ScheduleExpression");
    expect(fieldOf("rate(1 minutes)")).toBe("ScheduleExpression");
    expect(fieldOf("rate(5 minute)")).toBe("ScheduleExpression");
    expect(fieldOf("cron(0 12 * * * *)")).toBe("ScheduleExpression");
    expect(fieldOf("cron(0 12 * *)")).toBe("ScheduleExpression");
    expect(fieldOf("cron(61 12 * * ? *)")).toBe("ScheduleExpression.minutes");
    expect(fieldOf("cron(0 12 L * ? *)")).toBe("ScheduleExpression.day-of-month");
    expect(fieldOf("every 5 minutes")).toBe("ScheduleExpression");
  });
});
