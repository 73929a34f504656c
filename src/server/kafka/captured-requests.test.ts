// Requests a real client sent (kafkajs, recorded by test-support/capture-kafkajs.ts): each one is
// at a version the table serves, decodes to the last byte, and re-encodes to the same bytes.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ApiTable } from "./api-table.js";
import { groupHandlers, phaseOneHandlers } from "./handlers/index.js";
import { codecFor, requestHeaderCodec } from "./protocol/api-codecs.js";
import { WireReader } from "./protocol/wire-reader.js";
import { WireWriter } from "./protocol/wire-writer.js";

interface Captured {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly hex: string;
}

const fixture = JSON.parse(
  readFileSync(new URL("./test-support/kafkajs-requests.json", import.meta.url), "utf8"),
) as {
  requests: Captured[];
};
const table = new ApiTable([...phaseOneHandlers(), ...groupHandlers()]);

describe("requests captured from kafkajs", () => {
  it("cover the APIs kafkajs uses for admin, produce, fetch and groups", () => {
    expect(fixture.requests.length).toBeGreaterThanOrEqual(19);
  });

  it.each(fixture.requests)(
    "API $apiKey v$apiVersion is served, decodes exactly and re-encodes byte for byte",
    ({ apiKey, apiVersion, hex }) => {
      const handler = table.get(apiKey)!;
      expect(handler).toBeDefined();
      expect(apiVersion).toBeGreaterThanOrEqual(handler.minVersion);
      expect(apiVersion).toBeLessThanOrEqual(handler.maxVersion);
      const frame = Buffer.from(hex, "hex");
      const reader = new WireReader(frame);
      const headerCodec = requestHeaderCodec(handler.schema, apiVersion);
      const bodyCodec = codecFor(handler.schema.request, apiVersion);
      const header = headerCodec.decode(reader);
      const body = bodyCodec.decode(reader);
      expect(reader.remaining()).toBe(0);
      expect(header).toMatchObject({
        requestApiKey: apiKey,
        requestApiVersion: apiVersion,
        clientId: "capture",
      });
      const writer = new WireWriter();
      headerCodec.encode(writer, header);
      bodyCodec.encode(writer, body);
      expect(writer.toBuffer().toString("hex")).toBe(hex);
    },
  );
});
