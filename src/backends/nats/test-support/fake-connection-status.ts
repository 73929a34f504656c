/**
 * A connection's `status()` for unit tests: the test sends the events (`disconnect`,
 * `reconnect`) that the NATS client would report.
 */
export function fakeConnectionStatus() {
  let push: ((event: { type: string }) => void) | undefined;
  const queued: Array<{ type: string }> = [];
  const status = () => ({
    [Symbol.asyncIterator]: () => ({
      next: () =>
        new Promise((resolve) => {
          const event = queued.shift();
          if (event !== undefined) resolve({ value: event, done: false });
          else push = (e) => resolve({ value: e, done: false });
        }),
    }),
  });
  const send = (type: string): void => {
    const deliver = push;
    push = undefined;
    if (deliver === undefined) queued.push({ type });
    else deliver({ type });
  };
  return { status, send };
}
