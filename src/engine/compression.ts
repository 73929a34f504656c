import { gunzipSync, gzipSync } from "node:zlib";

/** Kafka's codec ids in the low three attribute bits of a record batch. */
export const CompressionCodec = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
export type CompressionName = keyof typeof CompressionCodec;

/**
 * Most bytes the records section of one compressed batch may decompress to: four times the
 * default `maxBatchBytes` (16 MiB). A batch is decompressed whole in memory, so without a cap a
 * few kilobytes of crafted gzip (a decompression bomb) could ask for gigabytes. The engine
 * refuses to write a compressed batch larger than this before compression, so every batch it
 * writes can be read back.
 */
export const MAX_DECOMPRESSED_BATCH_BYTES = 64 * 1024 * 1024;

export interface Codec {
  readonly name: CompressionName;
  compress(data: Buffer): Buffer;
  /**
   * Decompresses `data`, producing at most `maxOutputBytes`: past that it must throw (and
   * should stop early rather than allocate the rest). The caller also checks the length.
   */
  decompress(data: Buffer, maxOutputBytes: number): Buffer;
}

const codecs = new Map<number, Codec>();

/** Adds a codec (the topics layer registers snappy, lz4 and zstd from their npm packages). */
export function registerCodec(codec: Codec): void {
  codecs.set(CompressionCodec[codec.name], codec);
}

export function codecById(id: number): Codec | undefined {
  return codecs.get(id);
}

export function codecByName(name: CompressionName): Codec | undefined {
  return codecs.get(CompressionCodec[name]);
}

registerCodec({
  name: "gzip",
  compress: (d) => gzipSync(d, { level: 1 }),
  decompress: (d, maxOutputBytes) => gunzipSync(d, { maxOutputLength: maxOutputBytes }),
});
