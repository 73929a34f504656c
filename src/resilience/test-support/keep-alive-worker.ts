// Runs one awaited wait of the resilience toolkit with nothing else holding the process open,
// then prints "settled". A timer that does not keep the process alive makes it exit before.
import { bulkhead } from "../bulkhead.js";
import { constantBackoff } from "../backoff.js";
import { handleAll } from "../handle.js";
import { hedging } from "../hedging.js";
import { rateLimiter, tokenBucket } from "../rate-limiter.js";
import { retry } from "../retry.js";
import { timeout } from "../timeout.js";

const WAIT_MS = 300;
const never = (): Promise<never> => new Promise<never>(() => undefined);

const scenarios: Record<string, () => Promise<unknown>> = {
  "retry backoff": () => {
    let calls = 0;
    return retry(handleAll, { maxAttempts: 2, backoff: constantBackoff(WAIT_MS) }).execute(() => {
      if (++calls === 1) throw new Error("first try fails");
      return calls;
    });
  },
  "aggressive timeout": () =>
    timeout(WAIT_MS, "aggressive")
      .execute(never)
      .catch((error: unknown) => error),
  "cooperative timeout": () =>
    timeout(WAIT_MS)
      .execute(
        ({ signal }) =>
          new Promise((_, reject) =>
            signal.addEventListener("abort", () =>
              reject(new Error("aborted", { cause: signal.reason })),
            ),
          ),
      )
      .catch((error: unknown) => error),
  "rate limiter wait": async () => {
    const limiter = rateLimiter(tokenBucket({ capacity: 1, refillPerSecond: 1000 / WAIT_MS }), {
      maxWaitMs: 5 * WAIT_MS,
    });
    await limiter.acquire();
    await limiter.acquire();
  },
  "bulkhead queue timeout": () => {
    const policy = bulkhead(1, { maxQueued: 1, queueTimeoutMs: WAIT_MS });
    void policy.execute(never);
    return policy.execute(() => "ran").catch((error: unknown) => error);
  },
  "hedging delay": () => {
    let calls = 0;
    return hedging({ delayMs: WAIT_MS, maxHedgedAttempts: 1 }).execute(() =>
      ++calls === 1 ? never() : "hedged",
    );
  },
  // After a quick call the armed deadline must not hold the process until it passes.
  "finished aggressive call": () => timeout(60_000, "aggressive").execute(() => "quick"),
};

const scenario = scenarios[process.argv[2] ?? ""];
if (scenario === undefined) throw new Error(`unknown scenario ${process.argv[2]}`);
await scenario();
process.stdout.write("settled\n");
