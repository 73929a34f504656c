export { MAX_TIMER_MS, SystemClock, systemClock, sleepOn, abortError } from "./clock.js";
export type { Clock, Timer, TimerOptions } from "./clock.js";
export { VirtualClock } from "./virtual-clock.js";
export { sharedReading } from "./shared-reading.js";
