import type { Projection } from "../projections/projection.js";

/** Counts events per stream: the inline projection whose consistency the crash test checks. */
export const perStream: Projection = {
  name: "per-stream",
  async apply(event, tx) {
    tx.put(event.stream, (((await tx.get(event.stream)) as number | undefined) ?? 0) + 1);
  },
};
