import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type {
  TransactionMetadata,
  TransactionState,
} from "../../messaging/topics/transaction-coordinator.js";
import type { KafkaTransactions } from "./kafka-backend.js";
import { KafkaServer } from "./kafka-server.js";
import { KafkaErrorCode } from "./protocol/error-codes.js";
import { addOffsetsToTxn, addPartitionsToTxn, initProducerId } from "./protocol/schemas/index.js";
import { MemoryBackend } from "./test-support/memory-backend.js";
import { RawKafkaClient } from "./test-support/raw-client.js";

const ID = "payments";

/** A coordinator whose transaction for ID is in `state`; it records the calls that reach it. */
function coordinatorIn(state: TransactionState, calls: string[]): KafkaTransactions {
  const meta: TransactionMetadata = {
    transactionalId: ID,
    producerId: 7,
    producerEpoch: 3,
    timeoutMs: 60_000,
    state,
    partitions: [{ topic: "orders", partition: 0 }],
    groups: [],
    startedAt: 0,
    updatedAt: 0,
  };
  const called = (name: string) => (): Promise<never> => {
    calls.push(name);
    return Promise.resolve({ producerId: 7, producerEpoch: 4 } as never);
  };
  return {
    describe: (id) => (id === ID ? meta : undefined),
    // The coordinator tells a completion in progress from a prepared one nobody is completing.
    isCompleting: (id) => id === ID && (state === "PrepareCommit" || state === "PrepareAbort"),
    startAbortForInit: (id) => {
      if (id !== ID || state !== "Ongoing") return false;
      calls.push("startAbortForInit");
      return true;
    },
    initProducerId: called("initProducerId"),
    addPartitions: called("addPartitions"),
    addOffsets: called("addOffsets"),
    commitOffsets: called("commitOffsets"),
    endTransaction: called("endTransaction"),
  };
}

let server: KafkaServer;
let client: RawKafkaClient;
const calls: string[] = [];

async function serve(state: TransactionState): Promise<void> {
  const topics = new MemoryBackend();
  await topics.createTopic({ name: "orders", partitions: 1 });
  server = await KafkaServer.listen({
    backend: { admin: topics, partitions: topics, transactions: coordinatorIn(state, calls) },
    port: 0,
  });
  client = await RawKafkaClient.connect(server.port);
}

beforeEach(() => {
  calls.length = 0;
});

afterEach(async () => {
  client.close();
  await server.close();
});

/** The error codes of InitProducerId, AddPartitionsToTxn and AddOffsetsToTxn for ID. */
async function answers(): Promise<number[]> {
  const init = await client.request<{ errorCode: number }>(initProducerId, 1, {
    transactionalId: ID,
    transactionTimeoutMs: 60_000,
  });
  const partitions = await client.request<{
    resultsByTopicV3AndBelow: { resultsByPartition: { partitionErrorCode: number }[] }[];
  }>(addPartitionsToTxn, 1, {
    v3AndBelowTransactionalId: ID,
    v3AndBelowProducerId: 7,
    v3AndBelowProducerEpoch: 3,
    v3AndBelowTopics: [{ name: "orders", partitions: [0] }],
  });
  const offsets = await client.request<{ errorCode: number }>(addOffsetsToTxn, 1, {
    transactionalId: ID,
    producerId: 7,
    producerEpoch: 3,
    groupId: "billing",
  });
  return [
    init.errorCode,
    partitions.resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!.partitionErrorCode,
    offsets.errorCode,
  ];
}

describe("CONCURRENT_TRANSACTIONS, as Kafka answers it", () => {
  it.each(["PrepareCommit", "PrepareAbort"] as const)(
    "while the previous transaction is completing (%s), InitProducerId, AddPartitionsToTxn and AddOffsetsToTxn are told to retry",
    async (state) => {
      await serve(state);
      expect(await answers()).toEqual([
        KafkaErrorCode.CONCURRENT_TRANSACTIONS,
        KafkaErrorCode.CONCURRENT_TRANSACTIONS,
        KafkaErrorCode.CONCURRENT_TRANSACTIONS,
      ]);
      expect(calls).toEqual([]); // nothing waited on the coordinator
    },
  );

  it.each(["CompleteCommit", "CompleteAbort", "Empty"] as const)(
    "in state %s the calls go to the coordinator",
    async (state) => {
      await serve(state);
      expect(await answers()).toEqual([0, 0, 0]);
      expect(calls).toEqual(["initProducerId", "addPartitions", "addOffsets"]);
    },
  );

  it("InitProducerId finding the transaction open starts its abort and is told to retry; the open transaction's own calls go on", async () => {
    await serve("Ongoing");
    expect(await answers()).toEqual([KafkaErrorCode.CONCURRENT_TRANSACTIONS, 0, 0]);
    expect(calls).toEqual(["startAbortForInit", "addPartitions", "addOffsets"]);
  });
});
