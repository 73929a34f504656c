import type { MetricsRegistry } from "../observability/index.js";

/** What `GET /healthz` answers. */
export type Health =
  | { readonly status: "ok" }
  | { readonly status: "failing"; readonly reason: string; readonly failedLogs: string[] };

/**
 * Whether the process can go on serving: not while a log is stopped after an I/O failure (a
 * failed fsync: the engine takes no more writes until it is reopened, which a restart does).
 * Failures that heal themselves (a queue reopened, a refused batch forgotten) do not count.
 */
export function healthOf(metrics: MetricsRegistry | undefined): Health {
  const failedLogs = (metrics?.gaugeValues("sluice_log_failed") ?? [])
    .filter((g) => g.value === 1)
    .map((g) => g.labels.log ?? "")
    .sort();
  return failedLogs.length === 0
    ? { status: "ok" }
    : {
        status: "failing",
        reason: "logs stopped after an I/O failure; a restart reopens them",
        failedLogs,
      };
}
