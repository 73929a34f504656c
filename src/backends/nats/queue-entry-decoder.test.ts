import { headers } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import type { StreamMessage } from "./leader-reads.js";
import { decodeEntry } from "./queue-entry-decoder.js";

function stored(fields: Record<string, string>, data = ""): StreamMessage {
  const h = headers();
  for (const [key, value] of Object.entries(fields)) h.set(key, value);
  return { seq: 7, headers: h, data: Buffer.from(data, "utf8") };
}

describe("a queue stream's entries read back", () => {
  it("a message: its metadata from a header, its body from the payload", () => {
    const meta = '{"i":"id-1","g":"orders"}';
    expect(decodeEntry(stored({ k: "m", m: meta }, "héllo"), "Q")).toEqual({
      kind: "m",
      meta: { i: "id-1", g: "orders" },
      body: "héllo",
      bytes: meta.length + Buffer.byteLength("héllo"),
    });
  });

  it("any other entry: a JSON object, its kind from the header", () => {
    expect(decodeEntry(stored({ k: "d" }, '{"s":[3,4],"rc":[1,-1]}'), "Q")).toEqual({
      kind: "d",
      s: [3, 4],
      rc: [1, -1],
    });
  });

  it.each([
    ["no kind", stored({}, "{}"), "an entry without a kind"],
    ["an unknown kind", stored({ k: "z" }, "{}"), 'an entry of unknown kind "z"'],
    ["a message without metadata", stored({ k: "m" }, "body"), "a message without its metadata"],
    ["metadata that is not JSON", stored({ k: "m", m: "{i:" }, "b"), "metadata that is not JSON"],
    ["metadata that is a list", stored({ k: "m", m: "[1]" }, "b"), "without its metadata"],
    ["metadata that is null", stored({ k: "m", m: "null" }, "b"), "without its metadata"],
    ["an entry that is not JSON", stored({ k: "d" }, "{s:"), "entry that is not JSON"],
    ["an entry that is a number", stored({ k: "r" }, "42"), "not an entry"],
    ["an entry that is null", stored({ k: "c" }, "null"), "not an entry"],
    ["an entry that is a list", stored({ k: "p" }, "[]"), "not an entry"],
  ])("%s is refused as corrupt, naming the stream and sequence", (_, message, what) => {
    expect(() => decodeEntry(message, "Q_orders")).toThrow(
      expect.objectContaining({
        code: "SLUICE_CORRUPT",
        message: expect.stringContaining(`queue stream Q_orders seq 7: `) as unknown,
      }),
    );
    expect(() => decodeEntry(message, "Q_orders")).toThrow(what);
  });
});
