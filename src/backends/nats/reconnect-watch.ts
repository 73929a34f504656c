import type { NatsConnection } from "@nats-io/transport-node";
import { SluiceError } from "../../errors/index.js";

/**
 * A request's answer was lost with the connection it was sent on: whether the server acted on
 * the request is unknown (SLUICE_TIMEOUT, as for a request that was never answered).
 */
export class AnswerLostError extends SluiceError {
  constructor() {
    super("SLUICE_TIMEOUT", "the connection to NATS dropped before the request was answered");
  }
}

/** How often a read is sent again after lost answers before its loss is reported. */
const MAX_RESENDS = 5;

/**
 * NATS does not resend a request whose answer was lost when its connection dropped: the caller
 * waits out the whole request timeout (5 s) although the client reconnected to another server
 * within about half a second, and a consumer group's member then sat idle that long after a
 * server died. Requests run through a watch are given up as soon as the connection
 * is back: `once` reports the loss, `read` sends the request again. A request made while the
 * connection is down waits in the client's buffer and goes out on reconnect: only a disconnect
 * during a request loses its answer.
 */
export class ReconnectWatch {
  private disconnects = 0;
  private waiting: Array<{ after: number; resolve: () => void }> = [];
  private readonly listeners = new Set<() => void>();
  private readonly lossListeners = new Set<() => void>();
  private readonly stopStatus: () => void;

  constructor(nc: NatsConnection) {
    const status = nc.status();
    // The client's status iterator can be stopped; stopped on close so that a connection shared
    // by services opened and closed over time does not collect listeners.
    this.stopStatus = () => (status as { stop?: () => void }).stop?.();
    void (async () => {
      for await (const s of status) {
        if (s.type === "disconnect") this.disconnects++;
        else if (s.type === "reconnect") this.reconnected();
        else if (s.type === "update" && (s.deleted?.length ?? 0) > 0)
          for (const listener of this.lossListeners) listener();
      }
    })().catch(() => undefined);
  }

  /**
   * The request's answer, or `AnswerLostError` once the connection has dropped and come back
   * while it was waiting. The request may still be acted on: `once` suits writes whose caller
   * can find out (a compare-and-set that reads back what it wrote).
   */
  once<T>(request: () => Promise<T>): Promise<T> {
    const sent = request();
    let cancel: (() => void) | undefined;
    const lost = new Promise<never>((_, reject) => {
      const waiter = { after: this.disconnects, resolve: () => reject(new AnswerLostError()) };
      this.waiting.push(waiter);
      cancel = () => {
        const i = this.waiting.indexOf(waiter);
        if (i >= 0) this.waiting.splice(i, 1);
      };
    });
    sent.catch(() => undefined); // an abandoned request's late timeout is nobody's error
    return Promise.race([sent, lost]).finally(cancel);
  }

  /** A request that may be sent again (a read): sent again after each lost answer. */
  async read<T>(request: () => Promise<T>): Promise<T> {
    for (let resends = 0; ; resends++) {
      try {
        return await this.once(request);
      } catch (error) {
        if (!(error instanceof AnswerLostError) || resends >= MAX_RESENDS) throw error;
      }
    }
  }

  /**
   * Disconnects seen so far: a request sent when this was lower than it is at a reconnect lost
   * its answer; one sent while disconnected waited in the client's buffer and went out on it.
   */
  get disconnectsSeen(): number {
    return this.disconnects;
  }

  /** Calls `listener` at every reconnect; returns what stops it. */
  onReconnect(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Calls `listener` when the server this client is connected to reports that another left the
   * cluster (a server died: whatever lived there, a consumer say, is gone); returns what stops it.
   */
  onServerLost(listener: () => void): () => void {
    this.lossListeners.add(listener);
    return () => this.lossListeners.delete(listener);
  }

  private reconnected(): void {
    for (const listener of this.listeners) listener();
    const lost = this.waiting.filter((w) => w.after < this.disconnects);
    if (lost.length === 0) return;
    this.waiting = this.waiting.filter((w) => w.after >= this.disconnects);
    for (const w of lost) w.resolve();
  }

  /** Stops watching; requests still waiting end with their own answer (or error). */
  close(): void {
    this.stopStatus();
    this.waiting = [];
    this.listeners.clear();
    this.lossListeners.clear();
  }
}
