/**
 * `body`'s result as a promise, with a throw turned into a rejection, as an async function
 * would: callers that chain `.catch` instead of awaiting in a try see every error.
 */
export function promiseOf<T>(body: () => T): Promise<T> {
  try {
    return Promise.resolve(body());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}
