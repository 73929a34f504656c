import { isUnanswered } from "./nats-connection.js";
import { isTemporarilyUnavailable } from "./retry-unavailable.js";

/**
 * The request's answer, or undefined when JetStream has not answered within `ms` of real time
 * or answered that it cannot yet (no responders, temporarily unavailable). A stream whose
 * leader died answers nothing until a follower is elected (4-9 s in nats-server) while the
 * client's request timeout is 5 s: a caller that must stay responsive through a failover (a
 * poll) asks again next time rather than wait out the election and then miss its end. Other
 * errors are thrown; the request itself runs on, and its late outcome is dropped.
 */
export async function answerWithin<T>(request: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  const answered = request.catch((error: unknown) => {
    if (isUnanswered(error) || isTemporarilyUnavailable(error)) return undefined;
    throw error;
  });
  try {
    return await Promise.race([answered, gaveUp]);
  } finally {
    clearTimeout(timer);
  }
}
