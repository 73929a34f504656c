import { describe, it } from "vitest";
import { natsServerMissing } from "./nats-cluster.js";

/**
 * A describe block of tests that need nats-server: skipped with the reason when it is absent,
 * except under `CI=true`, where its absence is a failing test.
 */
export function describeWithNats(title: string, body: () => void): void {
  const missing = natsServerMissing();
  if (missing === undefined) describe(title, body);
  else if (process.env.CI === "true")
    it(`${title}: needs nats-server under CI`, () => {
      throw new Error(`NATS integration tests cannot run: ${missing}`);
    });
  else describe.skip(`${title} (skipped: ${missing})`, body);
}
