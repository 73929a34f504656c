// Reads what the listener stored: from the data directory of a stopped server, or through the
// open service it serves.
import { SluiceError } from "../../../errors/index.js";
import { decodeBatches, readBatchHeader, type BatchHeader } from "../../../engine/index.js";
import type { EmbeddedTopicService } from "../../../messaging/topics/embedded-topic-service.js";
import { open } from "../../../sluice/open.js";
import { embeddedKafkaBackend } from "../embedded-kafka-backend.js";

const COMPRESSION_MASK = 0x07;

/** The batch headers of every partition of `topic`, in offset order. */
export async function storedBatches(dir: string, topic: string): Promise<BatchHeader[][]> {
  const sluice = await open(dir);
  try {
    const broker = sluice.topics.broker;
    const partitions = broker.partitionCount(topic) ?? 0;
    return Array.from({ length: partitions }, (_, partition) => {
      const log = broker.partitionLog(topic, partition);
      const bytes = log.log.readBatches(log.logStartOffset, 64 * 1024 * 1024);
      const headers: BatchHeader[] = [];
      for (let pos = 0; pos < bytes.length;) {
        const header = readBatchHeader(bytes, pos);
        if (header instanceof SluiceError) throw header;
        headers.push(header);
        pos += header.sizeBytes;
      }
      return headers;
    });
  } finally {
    await sluice.close();
  }
}

/** The compression codec ids (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd) of each partition's batches. */
export async function storedCodecs(dir: string, topic: string): Promise<number[][]> {
  return (await storedBatches(dir, topic)).map((headers) => [
    ...new Set(headers.map((h) => h.attributes & COMPRESSION_MASK)),
  ]);
}

/** The raw batches stored in one partition, committed or not, in offset order. */
export async function storedBytes(
  topics: EmbeddedTopicService,
  topic: string,
  partition = 0,
): Promise<Buffer> {
  const read = await embeddedKafkaBackend(topics).partitions.read(
    topic,
    partition,
    0,
    1 << 30,
    "read_uncommitted",
  );
  return read.bytes;
}

/** The values stored in one partition, committed or not, in offset order. */
export async function storedValues(
  topics: EmbeddedTopicService,
  topic: string,
  partition = 0,
): Promise<string[]> {
  const records = decodeBatches(await storedBytes(topics, topic, partition));
  if (!Array.isArray(records)) throw records;
  return records.map((r) => r.value!.toString());
}
