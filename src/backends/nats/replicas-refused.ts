import { JetStreamApiError } from "@nats-io/jetstream";
import { SluiceError } from "../../errors/index.js";

/**
 * JetStream's error codes for a replica count the servers cannot hold: one server is not a
 * cluster (10074), or the cluster has fewer servers than copies asked for (10005, 10023).
 */
const REPLICAS_REFUSED: ReadonlySet<number> = new Set([10074, 10005, 10023]);

/**
 * `error`, or, when it is the servers refusing `replicas` copies of a stream, SLUICE_VALIDATION
 * naming `replicas` and the servers' reason (it came out of `open` as the client's own error,
 * and out of `sluice start --replicas` as a stack trace).
 */
export function replicasRefused(error: unknown, replicas: number): unknown {
  if (!(error instanceof JetStreamApiError) || !REPLICAS_REFUSED.has(error.code) || replicas <= 1)
    return error;
  return new SluiceError(
    "SLUICE_VALIDATION",
    `replicas: the NATS servers cannot keep ${replicas} copies of a stream: ${error.message}`,
    { field: "replicas", cause: error, details: { replicas } },
  );
}
