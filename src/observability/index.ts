export { Counter, Gauge, MetricsRegistry } from "./metrics.js";
export type { Labels, MetricSample } from "./metrics.js";
export { LatencyHistogram } from "./latency-histogram.js";
export type { LatencySummary } from "./latency-histogram.js";
export {
  machineInfo,
  producerPerfLine,
  consumerPerfLines,
  PeakRss,
  Progress,
  emitJson,
} from "./bench-report.js";
export type { MachineInfo, ConsumerFigures } from "./bench-report.js";
export { renderLineChart } from "./line-chart.js";
export { machineSpeedLine, measureMachineSpeed, withMachineSpeed } from "./machine-speed.js";
export type { MachineSpeed, MachineSpeedAround } from "./machine-speed.js";
export { PauseMonitor, mainThreadSchedule, parseSchedStat, pauseLine } from "./pause-monitor.js";
export type { PauseCounts, PauseSummary, ThreadSchedule } from "./pause-monitor.js";
export type { ChartSeries, LineChartOptions } from "./line-chart.js";
