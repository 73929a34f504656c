import { describe, expect, it } from "vitest";
import { SluiceError } from "../../errors/index.js";
import { WindowRecordWriter, decodeWindow, encodeWindow } from "./window-record.js";
import { writeUuidBytes } from "./uuid-bytes.js";

describe("window record (carried FIFO deduplication entries and receive attempts)", () => {
  const contents = {
    dedup: [
      {
        key: "g\u0000d-1",
        messageId: "0f8fad5b-d9cb-469f-a165-70867728950e",
        seq: 2 ** 40,
        sentAt: 1_764_000_000_123,
      },
      // Out of order in time and sequence (carried entries are), and a non-UUID message id.
      { key: "é", messageId: "moved-7", seq: 3, sentAt: 1_764_000_000_001 },
      // Near-UUIDs are kept as text, exactly (only lower-case UUIDs take the 16-byte form).
      { key: "u", messageId: "0F8FAD5B-D9CB-469F-A165-70867728950E", seq: 4, sentAt: 1 },
      { key: "v", messageId: "0f8fad5b-d9cb-469f-a165-70867728950g", seq: 5, sentAt: 2 },
      { key: "w", messageId: "0f8fad5b-d9cb-469f-a165_70867728950e", seq: 6, sentAt: 3 },
      { key: "x", messageId: "0f8fad5bd-9cb-469f-a165-70867728950e", seq: 7, sentAt: 4 },
    ],
    attempts: [{ id: "a", at: 1_764_000_000_500, seqs: [5, 9], receiveCounts: [1, 3] }],
  };

  it("round-trips exactly, about 30 bytes an entry with a short key", () => {
    const encoded = encodeWindow(contents);
    expect(decodeWindow(encoded, 0)).toEqual(contents);
    const many = Array.from({ length: 1000 }, (_, i) => ({
      key: `d${i}`,
      messageId: "0f8fad5b-d9cb-469f-a165-70867728950e",
      seq: 1000 + i,
      sentAt: 1_764_000_000_000 + i,
    }));
    expect(encodeWindow({ dedup: many, attempts: [] }).length).toBeLessThan(1000 * 30);
  });

  it("refuses a damaged record with SLUICE_CORRUPT naming its offset", () => {
    const encoded = encodeWindow(contents);
    for (const damaged of [
      encoded.subarray(0, encoded.length - 1),
      Buffer.concat([encoded, Buffer.of(0)]),
    ]) {
      const error = (() => {
        try {
          decodeWindow(damaged, 42);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(SluiceError);
      expect((error as SluiceError).code).toBe("SLUICE_CORRUPT");
      expect((error as SluiceError).message).toContain("offset 42");
    }
  });

  it("writes entries one by one (keys as bytes, UUIDs as 16 bytes) that decode as encodeWindow's", () => {
    const writer = new WindowRecordWriter();
    for (const e of contents.dedup) {
      const key = Buffer.from(e.key, "utf8");
      if (e.key === "é") writer.beginEntryWithKey(e.sentAt, e.seq, e.key);
      else key.copy(writer.buffer, writer.beginEntry(e.sentAt, e.seq, key.length));
      const bytes = new Uint8Array(20);
      if (writeUuidBytes(e.messageId, bytes, 3)) writer.uuid(bytes, 3);
      else writer.messageId(e.messageId);
    }
    expect(writer.count).toBe(contents.dedup.length);
    expect(decodeWindow(writer.finish(), 0)).toEqual({ dedup: contents.dedup, attempts: [] });
    // Many entries: the buffer grows under them, the count takes several varint bytes.
    const many = new WindowRecordWriter();
    const expected = [];
    for (let i = 0; i < 20_000; i++) {
      const e = { key: `k${i}`, messageId: `m${i}`, seq: 5 * i, sentAt: 1_764_000_000_000 + i };
      expected.push(e);
      many.beginEntryWithKey(e.sentAt, e.seq, e.key);
      many.messageId(e.messageId);
    }
    expect(decodeWindow(many.finish(), 0).dedup).toEqual(expected);
    expect(decodeWindow(new WindowRecordWriter().finish(), 0)).toEqual({ dedup: [], attempts: [] });
  });
});
