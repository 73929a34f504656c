import { beforeEach, describe, it } from "vitest";
import { natsServerMissing, testClusterUnavailable, timerFlushNote } from "./nats-cluster.js";

/**
 * A describe block of tests that need nats-server: skipped with the reason when it is absent or
 * their cluster cannot be started (`startTestCluster`), except under `CI=true`, where either (or
 * a server that cannot flush every write) is a failing test. Outside CI, a title says so when
 * the servers flush on their timer only.
 */
export function describeWithNats(title: string, body: () => void): void {
  const missing = natsServerMissing();
  if (missing === undefined) {
    const note = timerFlushNote();
    describe(note === undefined ? title : `${title} (${note})`, () => {
      beforeEach((context) => {
        const unavailable = testClusterUnavailable();
        if (unavailable !== undefined) context.skip(unavailable);
      });
      body();
    });
  } else if (process.env.CI === "true")
    it(`${title}: needs nats-server under CI`, () => {
      throw new Error(`NATS integration tests cannot run: ${missing}`);
    });
  else describe.skip(`${title} (skipped: ${missing})`, body);
}
