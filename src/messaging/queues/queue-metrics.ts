import { type Counter, type Gauge, MetricsRegistry } from "../../observability/index.js";
import type { QueueState } from "./queue-state.js";

/** Per-queue counters and depth gauges (what CloudWatch shows for SQS), labelled by queue. */
export class QueueMetrics {
  readonly sent: Counter;
  readonly received: Counter;
  readonly deleted: Counter;
  readonly deadLettered: Counter;
  private readonly visible: Gauge;
  private readonly inflight: Gauge;
  private readonly delayed: Gauge;
  private readonly oldest: Gauge;

  constructor(registry: MetricsRegistry = new MetricsRegistry(), queue: string) {
    const labels = { queue };
    this.sent = registry.counter(
      "sluice_queue_messages_sent_total",
      "Messages stored by sends",
      labels,
    );
    this.received = registry.counter(
      "sluice_queue_messages_received_total",
      "Messages delivered by receives",
      labels,
    );
    this.deleted = registry.counter(
      "sluice_queue_messages_deleted_total",
      "Messages deleted",
      labels,
    );
    this.deadLettered = registry.counter(
      "sluice_queue_messages_dead_lettered_total",
      "Messages moved to the dead-letter queue after maxReceiveCount receives",
      labels,
    );
    this.visible = registry.gauge(
      "sluice_queue_messages_visible",
      "ApproximateNumberOfMessages",
      labels,
    );
    this.inflight = registry.gauge(
      "sluice_queue_messages_inflight",
      "ApproximateNumberOfMessagesNotVisible",
      labels,
    );
    this.delayed = registry.gauge(
      "sluice_queue_messages_delayed",
      "ApproximateNumberOfMessagesDelayed",
      labels,
    );
    this.oldest = registry.gauge(
      "sluice_queue_oldest_message_timestamp_seconds",
      "Send time (Unix seconds) of the oldest message not yet deleted, 0 when empty; age = time() - this",
      labels,
    );
  }

  /** Copies the state's counts into the depth gauges. */
  depth(state: QueueState): void {
    this.visible.set(state.visibleCount);
    this.inflight.set(state.inflightCount);
    this.delayed.set(state.delayedCount);
    this.oldest.set((state.oldestSentAt() ?? 0) / 1000);
  }
}
