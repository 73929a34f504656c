import { MsgHdrsImpl, headers } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import { encodeRecord } from "./partition-stream.js";
import { WireHeaders, checkedHeaderLine, headerLine } from "./wire-headers.js";

/** The client's own wire form of the same fields. */
function clientWire(fields: Array<[string, string]>): Buffer {
  const h = headers() as MsgHdrsImpl;
  for (const [k, v] of fields) h.set(k, v);
  return Buffer.from(h.encode());
}

describe("WireHeaders", () => {
  it("writes the bytes the client's headers would", () => {
    const fields: Array<[string, string]> = [
      ["Nats-Msg-Id", "0123456789abcdef-3-42"],
      ["t", "1764739200000"],
      ["k", Buffer.from("key").toString("base64")],
    ];
    const wire = WireHeaders.of(fields.map(([k, v]) => headerLine(k, v)).join(""));
    expect(Buffer.from(wire.encode())).toEqual(clientWire(fields));
  });

  it("writes text beyond ASCII as UTF-8", () => {
    const fields: Array<[string, string]> = [["h", JSON.stringify([["clé", "ü€"]])]];
    const wire = WireHeaders.of(headerLine("h", fields[0]![1]));
    expect(Buffer.from(wire.encode())).toEqual(clientWire(fields));
    expect(MsgHdrsImpl.decode(wire.encode()).get("h")).toBe('[["clé","ü€"]]');
  });

  it("reads like the client's headers and cannot be changed", () => {
    const wire = WireHeaders.of(headerLine("t", "5") + headerLine("k", "a2V5"));
    expect(wire.get("t")).toBe("5");
    expect(wire.has("k")).toBe(true);
    expect(wire.keys()).toEqual(["t", "k"]);
    expect(wire.values("k")).toEqual(["a2V5"]);
    expect([...wire]).toEqual([
      ["t", ["5"]],
      ["k", ["a2V5"]],
    ]);
    expect(wire.hasError).toBe(false);
    expect(() => wire.set()).toThrow(/cannot be changed/);
  });

  it("refuses a line break in a value from outside", () => {
    expect(() => checkedHeaderLine("Nats-Msg-Id", "a\r\nNats-Expected-Stream: X")).toThrow(
      /CR or LF/,
    );
    expect(checkedHeaderLine("Nats-Msg-Id", "a-1")).toBe("Nats-Msg-Id: a-1\r\n");
  });
});

describe("encodeRecord's headers", () => {
  it("keep record headers beyond ASCII", () => {
    const { headers: h } = encodeRecord(
      {
        key: Buffer.from("k"),
        value: Buffer.from("v"),
        timestamp: 7,
        headers: [{ key: "clé", value: Buffer.from("ü") }],
      },
      "none",
      "p-0-1",
    );
    const read = MsgHdrsImpl.decode((h as WireHeaders).encode());
    expect(JSON.parse(read.get("h"))).toEqual([["clé", Buffer.from("ü").toString("base64")]]);
    expect([read.get("Nats-Msg-Id"), read.get("t"), read.get("k")]).toEqual(["p-0-1", "7", "aw=="]);
  });
});
