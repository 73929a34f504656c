// Garbage in every field: a decoder either returns a message or throws KafkaProtocolError, never
// anything else, and never allocates what a length merely claims.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { codecFor } from "./api-codecs.js";
import { FrameDecoder } from "./frame-decoder.js";
import { KafkaProtocolError } from "./protocol-error.js";
import { API_SCHEMAS } from "./schemas/index.js";
import { arbitraryMessage } from "./test-support/arbitrary-message.js";
import { parseVersionRange } from "./version-range.js";
import { WireReader } from "./wire-reader.js";
import { WireWriter } from "./wire-writer.js";

const requestVersions = API_SCHEMAS.flatMap((api) => {
  const range = parseVersionRange(api.request.validVersions);
  const out: { api: string; version: number; schema: typeof api.request }[] = [];
  for (let v = range.min; v <= range.max; v++)
    out.push({ api: api.name, version: v, schema: api.request });
  return out;
});

function decodeOrProtocolError(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    if (!(error instanceof KafkaProtocolError)) throw error;
  }
}

describe("request decoders under garbage", () => {
  it.each(requestVersions)(
    "$api v$version: random bytes decode or fail with a protocol error",
    ({ schema, version }) => {
      const codec = codecFor(schema, version);
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
          decodeOrProtocolError(() => codec.decode(new WireReader(Buffer.from(bytes))));
        }),
        { numRuns: 40 },
      );
    },
  );

  it.each(requestVersions)(
    "$api v$version: a valid request truncated or with one byte changed decodes or fails with a protocol error",
    ({ schema, version }) => {
      const codec = codecFor(schema, version);
      fc.assert(
        fc.property(
          arbitraryMessage(schema, version),
          fc.nat(),
          fc.nat(),
          fc.integer({ min: 0, max: 255 }),
          (message, cut, at, byte) => {
            const writer = new WireWriter(32);
            codec.encode(writer, message);
            const bytes = Buffer.from(writer.toBuffer());
            decodeOrProtocolError(() =>
              codec.decode(new WireReader(bytes.subarray(0, cut % (bytes.length + 1)))),
            );
            if (bytes.length > 0) bytes[at % bytes.length] = byte;
            decodeOrProtocolError(() => codec.decode(new WireReader(bytes)));
          },
        ),
        { numRuns: 20 },
      );
    },
  );

  it("a huge declared array length fails at once instead of looping or allocating", () => {
    // Produce v3: null transactional id, acks, timeout, then 2^31-1 topics with nothing behind them.
    const bytes = Buffer.from("ffff" + "0001" + "00000001" + "7fffffff", "hex");
    const produce = API_SCHEMAS.find((api) => api.name === "Produce")!;
    expect(() => codecFor(produce.request, 3).decode(new WireReader(bytes))).toThrow(
      /topicData: expected at most 0 elements/,
    );
  });
});

describe("frame decoder", () => {
  const frame = (payload: Buffer): Buffer => {
    const size = Buffer.alloc(4);
    size.writeInt32BE(payload.length);
    return Buffer.concat([size, payload]);
  };

  it("yields the same frames however the stream is split", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 20 }),
        (payloads, splits) => {
          const stream = Buffer.concat(payloads.map((p) => frame(Buffer.from(p))));
          const decoder = new FrameDecoder(1024);
          const frames: Buffer[] = [];
          let pos = 0;
          for (let i = 0; pos < stream.length; i++) {
            const size = splits[i % splits.length]!;
            frames.push(...decoder.push(stream.subarray(pos, pos + size)));
            pos += size;
          }
          expect(frames.map((f) => [...f])).toEqual(payloads.map((p) => [...p]));
          expect(decoder.bufferedBytes).toBe(0);
        },
      ),
    );
  });

  it("refuses a negative or over-limit size as soon as the size is read, without waiting for the body", () => {
    const decoder = new FrameDecoder(1000);
    expect(() => decoder.push(Buffer.from("000003e9", "hex"))).toThrow(
      /frame.size: expected 0 to 1000 bytes, got 1001/,
    );
    expect(() => new FrameDecoder().push(Buffer.from("ffffffff", "hex"))).toThrow(
      KafkaProtocolError,
    );
  });

  it("holds a frame claiming 100 MB without allocating it while its bytes have not arrived", () => {
    const decoder = new FrameDecoder();
    expect(decoder.push(Buffer.from("05f5e10000", "hex"))).toEqual([]);
    expect(decoder.bufferedBytes).toBe(5);
  });
});
