import { JetStreamApiError } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";
import { replicasRefused } from "./replicas-refused.js";

const refusal = (err_code: number, description: string): JetStreamApiError =>
  new JetStreamApiError({ code: 500, err_code, description });

describe("replicasRefused", () => {
  it("says a replica count one server (or a small cluster) cannot hold as bad input naming replicas", () => {
    const single = refusal(10074, "replicas > 1 not supported in non-clustered mode");
    expect(replicasRefused(single, 3)).toMatchObject({
      code: "SLUICE_VALIDATION",
      field: "replicas",
      message:
        "replicas: the NATS servers cannot keep 3 copies of a stream: replicas > 1 not supported in non-clustered mode",
      cause: single,
    });
    expect(replicasRefused(refusal(10023, "insufficient resources"), 5)).toMatchObject({
      field: "replicas",
    });
  });

  it("passes every other error on unchanged", () => {
    const other = refusal(10059, "stream not found");
    expect(replicasRefused(other, 3)).toBe(other);
    // With one copy, "insufficient resources" is about storage, not replicas.
    const storage = refusal(10023, "insufficient resources");
    expect(replicasRefused(storage, 1)).toBe(storage);
    const plain = new Error("x");
    expect(replicasRefused(plain, 3)).toBe(plain);
  });
});
