import type { IsolationLevel } from "../../../messaging/topics/index.js";
import { defineApi, type RequestContext } from "../api-handler.js";
import { KafkaErrorCode } from "../protocol/error-codes.js";
import { fetch, type FetchRequest, type FetchResponse } from "../protocol/schemas/index.js";
import { topicNamed } from "../topic-ids.js";
import { errorCodeOf } from "./kafka-errors.js";

type PartitionData = NonNullable<
  NonNullable<FetchResponse["responses"]>[number]["partitions"]
>[number];
/** A partition to read; `topic` is undefined for a topic id (v13+) no topic has. */
type Wanted = { topic: string | undefined; partition: number; offset: number; maxBytes: number };

/**
 * Fetch: stored batches are served as they are, from the one holding the fetch offset. Waits up
 * to maxWaitMs for minBytes; maxBytes bounds the whole answer and partitionMaxBytes each
 * partition, except that the first batch is always sent whole (KIP-74) so a consumer never
 * stalls on a batch larger than its limits. Fetch sessions are not kept: the answer's session id
 * 0 tells clients to send full fetches. From v13 topics are named by id (see topic-ids.ts); an
 * id no topic has gets UNKNOWN_TOPIC_ID.
 */
export const fetchApi = defineApi<FetchRequest, FetchResponse>({
  schema: fetch,
  minVersion: 4,
  maxVersion: 13,
  async handle(request, context) {
    const isolation: IsolationLevel =
      request.isolationLevel === 1 ? "read_committed" : "read_uncommitted";
    const byId = context.apiVersion >= 13;
    const names = byId ? await context.backend.admin.listTopics() : [];
    const wanted: Wanted[] = request.topics.flatMap((t) =>
      t.partitions.map((p) => ({
        topic: byId ? topicNamed(t.topicId, names) : t.topic,
        partition: p.partition,
        offset: p.fetchOffset,
        maxBytes: p.partitionMaxBytes,
      })),
    );
    const deadline = context.clock.now() + Math.max(0, request.maxWaitMs);
    for (;;) {
      const read = await readAll(wanted, request.maxBytes, isolation, context);
      const enough =
        read.bytes >= Math.max(1, Math.min(request.minBytes, request.maxBytes)) || read.failed;
      const left = deadline - context.clock.now();
      if (enough || left <= 0 || context.signal.aborted) return answer(request, read.partitions);
      // Wait for records past what was just seen, not merely past the fetch offset: a read_committed
      // fetch below an open transaction would otherwise wake at once and spin.
      const seen = wanted.map((w, i) => ({
        ...w,
        offset: Math.max(w.offset, read.partitions[i]!.highWatermark ?? -1),
      }));
      await waitForAny(seen, left, context);
    }
  },
});

async function readAll(
  wanted: readonly Wanted[],
  maxBytes: number,
  isolation: IsolationLevel,
  context: RequestContext,
): Promise<{ partitions: PartitionData[]; bytes: number; failed: boolean }> {
  const partitions: PartitionData[] = [];
  let bytes = 0;
  let failed = false;
  for (const w of wanted) {
    // maxBytes bounds the whole answer, partitionMaxBytes each partition; the answer's first batch
    // goes whole even when it alone is larger (the backend always reads one whole batch), and
    // after it a partition whose first batch does not fit the bytes left sends nothing.
    const budget = Math.min(w.maxBytes, maxBytes - bytes);
    if (w.topic === undefined) {
      failed = true;
      partitions.push(failedPartition(w.partition, KafkaErrorCode.UNKNOWN_TOPIC_ID));
      continue;
    }
    try {
      const read = await context.backend.partitions.read(
        w.topic,
        w.partition,
        w.offset,
        Math.max(0, budget),
        isolation,
      );
      const records =
        bytes === 0 || read.bytes.length <= budget ? read.bytes : read.bytes.subarray(0, 0);
      bytes += records.length;
      partitions.push({
        partitionIndex: w.partition,
        errorCode: KafkaErrorCode.NONE,
        highWatermark: read.highWatermark,
        lastStableOffset: read.lastStableOffset,
        logStartOffset: read.logStartOffset,
        abortedTransactions: isolation === "read_committed" ? [...read.abortedTransactions] : null,
        preferredReadReplica: -1,
        records,
      });
    } catch (error) {
      failed = true;
      partitions.push(failedPartition(w.partition, errorCodeOf(error)));
    }
  }
  return { partitions, bytes, failed };
}

const failedPartition = (partitionIndex: number, errorCode: number): PartitionData => ({
  partitionIndex,
  errorCode,
  highWatermark: -1,
  lastStableOffset: -1,
  logStartOffset: -1,
  records: null,
});

function answer(request: FetchRequest, partitions: PartitionData[]): FetchResponse {
  let at = 0;
  return {
    errorCode: KafkaErrorCode.NONE,
    sessionId: 0,
    responses: request.topics.map((t) => ({
      topic: t.topic,
      topicId: t.topicId,
      partitions: partitions.slice(at, (at += t.partitions.length)),
    })),
  };
}

/** Why a long poll's partition waits are stopped: a constant, so no error is built per fetch. */
const WAIT_OVER = "the fetch stopped waiting";

/** Waits until any wanted partition has new records, the time is up or the connection closes. */
async function waitForAny(
  wanted: readonly Wanted[],
  timeoutMs: number,
  context: RequestContext,
): Promise<void> {
  // A timer and an abort reason rather than an aborted sleep: this runs once per fetch that
  // waited, and an aborted sleep builds an error (with its stack) every time.
  const stop = new AbortController();
  let wake = (): void => undefined;
  const woken = new Promise<void>((resolve) => (wake = resolve));
  const timer = context.clock.setTimer(timeoutMs, wake, { keepAlive: true });
  context.signal.addEventListener("abort", wake, { once: true });
  try {
    await Promise.race([
      woken,
      ...wanted.map((w) =>
        w.topic === undefined
          ? woken // an unknown topic id never gets records
          : context.backend.partitions
              .waitForRecords(w.topic, w.partition, w.offset, stop.signal)
              .catch(() => undefined),
      ),
    ]);
  } finally {
    timer.cancel();
    context.signal.removeEventListener("abort", wake);
    stop.abort(WAIT_OVER);
  }
}
