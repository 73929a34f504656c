import {
  DELAYED as QUEUED_DELAYED,
  INFLIGHT as QUEUED_INFLIGHT,
  QueuedMessage,
  VISIBLE as QUEUED_VISIBLE,
} from "../../messaging/queues/queue-state.js";
import { DELAYED, type HeldMessage, INFLIGHT } from "./replicated-queue.js";

/**
 * A held message as the queue package's message builders read it (its counts, timestamps and
 * status at `now`), so receive and peek answers are built by the same code as embedded ones.
 */
export function queuedView(m: HeldMessage, now: number): QueuedMessage {
  const view = new QueuedMessage(m.seq, m.seq, m.sentAt, undefined);
  const status = m.statusAt(now);
  view.state =
    status === INFLIGHT ? QUEUED_INFLIGHT : status === DELAYED ? QUEUED_DELAYED : QUEUED_VISIBLE;
  view.due = m.due;
  view.receiveCount = m.receiveCount;
  view.firstReceiveAt = m.firstReceiveAt;
  view.receivedAt = m.receivedAt;
  return view;
}
