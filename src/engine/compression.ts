import { gunzipSync, gzipSync } from "node:zlib";

/** Kafka's codec ids in the low three attribute bits of a record batch. */
export const CompressionCodec = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
export type CompressionName = keyof typeof CompressionCodec;

export interface Codec {
  readonly name: CompressionName;
  compress(data: Buffer): Buffer;
  decompress(data: Buffer): Buffer;
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
  decompress: (d) => gunzipSync(d),
});
