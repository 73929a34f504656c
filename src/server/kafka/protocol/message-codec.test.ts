import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { codecFor } from "./api-codecs.js";
import { API_SCHEMAS } from "./schemas/index.js";
import { parseVersionRange } from "./version-range.js";
import { arbitraryMessage } from "./test-support/arbitrary-message.js";
import { WireReader } from "./wire-reader.js";
import { WireWriter } from "./wire-writer.js";
import { KafkaProtocolError } from "./protocol-error.js";
import { produce, apiVersions, metadata, joinGroup } from "./schemas/index.js";

function encode(schema: Parameters<typeof codecFor>[0], version: number, value: object): Buffer {
  const writer = new WireWriter(32);
  codecFor(schema, version).encode(writer, value);
  return writer.toBuffer();
}

const everyMessageVersion = API_SCHEMAS.flatMap((api) =>
  (["request", "response"] as const).flatMap((direction) => {
    const range = parseVersionRange(api[direction].validVersions);
    const versions: number[] = [];
    for (let v = range.min; v <= range.max; v++) versions.push(v);
    return versions.map((version) => ({
      api: api.name,
      direction,
      version,
      schema: api[direction],
    }));
  }),
);

describe("message codec", () => {
  it.each(everyMessageVersion)(
    "$api $direction v$version: decode(encode(x)) is x and re-encoding gives the same bytes",
    ({ schema, version }) => {
      fc.assert(
        fc.property(arbitraryMessage(schema, version), (message) => {
          const bytes = encode(schema, version, message);
          const reader = new WireReader(bytes);
          const decoded = codecFor(schema, version).decode(reader);
          expect(reader.remaining()).toBe(0);
          expect(decoded).toEqual(message);
          expect(encode(schema, version, decoded).equals(bytes)).toBe(true);
        }),
        { numRuns: 15 },
      );
    },
  );

  it("writes Kafka's byte layout: Produce v3 (rigid) and v9 (compact strings, tagged fields)", () => {
    const request = {
      transactionalId: null,
      acks: 1,
      timeoutMs: 30000,
      topicData: [{ name: "t", partitionData: [{ index: 2, records: Buffer.from([7]) }] }],
    };
    expect(encode(produce.request, 3, request).toString("hex")).toBe(
      "ffff" +
        "0001" +
        "00007530" +
        "00000001" +
        "0001" +
        "74" +
        "00000001" +
        "00000002" +
        "00000001" +
        "07",
    );
    expect(encode(produce.request, 9, request).toString("hex")).toBe(
      "00" +
        "0001" +
        "00007530" +
        "02" +
        "02" +
        "74" +
        "02" +
        "00000002" +
        "02" +
        "07" +
        "00" +
        "00" +
        "00",
    );
  });

  it("writes a tagged field only when it differs from its default, and reads it back", () => {
    const withEpoch = encode(apiVersions.response, 3, { finalizedFeaturesEpoch: 7 });
    const without = encode(apiVersions.response, 3, {});
    expect(without.toString("hex")).toBe("0000" + "01" + "00000000" + "00");
    const explicitDefaults = encode(apiVersions.response, 3, {
      supportedFeatures: [],
      finalizedFeaturesEpoch: -1,
      zkMigrationReady: false,
    });
    expect(explicitDefaults.equals(without)).toBe(true);
    expect(withEpoch.toString("hex")).toBe(
      "0000" + "01" + "00000000" + "01" + "01" + "08" + "0000000000000007",
    );
    const decoded = codecFor(apiVersions.response, 3).decode(new WireReader(withEpoch));
    expect(decoded.finalizedFeaturesEpoch).toBe(7);
  });

  it("skips unknown tagged fields", () => {
    // Metadata v9 request with an unknown tag 5 (3 bytes) after the known fields.
    const known = encode(metadata.request, 9, { topics: [], allowAutoTopicCreation: true });
    const withUnknown = Buffer.concat([known.subarray(0, -1), Buffer.from([1, 5, 3, 9, 9, 9])]);
    const decoded = codecFor(metadata.request, 9).decode(new WireReader(withUnknown));
    expect(decoded.allowAutoTopicCreation).toBe(true);
  });

  it("names the field where decoding stopped", () => {
    const bytes = encode(produce.request, 3, {
      acks: 1,
      timeoutMs: 1,
      topicData: [{ name: "t", partitionData: [{ index: 0, records: Buffer.alloc(10) }] }],
    });
    const decode = () => codecFor(produce.request, 3).decode(new WireReader(bytes.subarray(0, -4)));
    expect(decode).toThrow(KafkaProtocolError);
    expect(decode).toThrow(
      /^topicData\[0\]\.partitionData\[0\]\.records: expected 10 more bytes, got 6/,
    );
  });

  it("writes null as empty where a version cannot say null (JoinGroup's protocolName before v7)", () => {
    const v6 = encode(joinGroup.response, 6, { protocolName: null });
    const v7 = encode(joinGroup.response, 7, { protocolName: null });
    expect(codecFor(joinGroup.response, 6).decode(new WireReader(v6)).protocolName).toBe("");
    expect(codecFor(joinGroup.response, 7).decode(new WireReader(v7)).protocolName).toBeNull();
  });

  it("refuses an int64 beyond 2^53 instead of rounding it", () => {
    const bytes = Buffer.from("7fffffffffffffff", "hex");
    expect(() => new WireReader(bytes).int64()).toThrow(KafkaProtocolError);
  });
});
