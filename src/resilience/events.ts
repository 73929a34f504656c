/** A subscription handle: call `dispose()` (or use `using`) to stop listening. */
export interface Disposable {
  dispose(): void;
  [Symbol.dispose](): void;
}

/** A typed event: subscribe with a listener, get back a handle that unsubscribes. */
export type Event<T> = (listener: (data: T) => void) => Disposable;

/**
 * The source side of an `Event<T>`. Policies check `hasListeners` before building an event
 * payload, so an event nobody listens to costs one property read on the hot path.
 */
export class EventEmitter<T> {
  private listeners: Array<(data: T) => void> = [];

  /** The subscribe function handed out as a policy's public `onX` property. */
  readonly event: Event<T> = (listener) => {
    // Copy on write: emit() may be iterating the current array while a listener unsubscribes.
    this.listeners = [...this.listeners, listener];
    let active = true;
    const dispose = (): void => {
      if (!active) return;
      active = false;
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
    return { dispose, [Symbol.dispose]: dispose };
  };

  get hasListeners(): boolean {
    return this.listeners.length > 0;
  }

  /**
   * Calls every listener. A listener that throws must not leave the policy half-updated, so its
   * error is rethrown on a later microtask, where it surfaces as an uncaught exception.
   */
  emit(data: T): void {
    const listeners = this.listeners;
    for (let i = 0; i < listeners.length; i++) {
      try {
        listeners[i]!(data);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}

/** A handle that does nothing, for APIs that return a Disposable when there is nothing to undo. */
export const noopDisposable: Disposable = {
  dispose() {},
  [Symbol.dispose]() {},
};
