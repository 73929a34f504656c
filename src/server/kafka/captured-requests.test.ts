// Requests real clients sent, recorded through a relaying socket by the capture scripts in
// test-support/ (capture-kafkajs.ts, capture-platformatic.ts, capture-librdkafka.ts,
// capture-kafka-python.ts, capture-kafka-ts.ts, which also advertise lower versions so that each
// client sends every version it knows; capture-clients.ts, sessions of kcat, confluent-kafka and
// kafka-python as served): each one is at a version the table serves, decodes to the last byte,
// and re-encodes to the same bytes; and every version the table serves has such a request, but
// for those no client here sends (NOT_CAPTURED, none now).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ApiTable } from "./api-table.js";
import {
  groupHandlers,
  phaseOneHandlers,
  producerHandlers,
  transactionHandlers,
} from "./handlers/index.js";
import { codecFor, requestHeaderCodec } from "./protocol/api-codecs.js";
import { WireReader } from "./protocol/wire-reader.js";
import { WireWriter } from "./protocol/wire-writer.js";

interface Captured {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly hex: string;
}

interface ClientCapture {
  readonly client: string;
  readonly requests: Captured[];
}

function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./test-support/${name}`, import.meta.url), "utf8")) as T;
}

const kafkajs = fixture<ClientCapture>("kafkajs-requests.json");
const clients = fixture<ClientCapture[]>("client-requests.json");
/** The other clients at every version they negotiate. */
const negotiated = [
  fixture<ClientCapture>("platformatic-requests.json"),
  fixture<ClientCapture>("librdkafka-requests.json"),
  fixture<ClientCapture>("librdkafka-later-requests.json"),
  fixture<ClientCapture>("kafka-python-requests.json"),
  fixture<ClientCapture>("kafka-ts-requests.json"),
];
const table = new ApiTable([
  ...phaseOneHandlers(),
  ...groupHandlers(),
  ...producerHandlers(),
  ...transactionHandlers(),
]);
/** InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, TxnOffsetCommit. */
const TRANSACTION_KEYS = [22, 24, 25, 26, 28];

/**
 * Versions the table serves that no client here sends, and why; the clients' ranges are those
 * their fixtures show when every version is advertised (kafkajs 2.2.4, librdkafka 2.0.2 and
 * 2.12.0 through confluent-kafka 1.7.0, kafka-python 2.0.2, @platformatic/kafka 1.35.0,
 * kafka-ts 1.5.0). None now: kafka-ts implements every version of the client APIs, so it sends
 * those the others skip (FindCoordinator v3, CreateTopics v5 and v6, DeleteTopics v4 and v5,
 * AddPartitionsToTxn v2, EndTxn v2).
 */
const NOT_CAPTURED = new Map<string, string>();

/** Decodes a captured request with the served codec and encodes it again; returns the header. */
function roundTrip({ apiKey, apiVersion, hex }: Captured): Record<string, unknown> {
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
  const writer = new WireWriter();
  headerCodec.encode(writer, header);
  bodyCodec.encode(writer, body);
  expect(writer.toBuffer().toString("hex")).toBe(hex);
  return header;
}

/** A test per request: served, decoded to its last byte, re-encoded byte for byte. */
function roundTripsEach(requests: readonly Captured[], header: object = {}): void {
  it.each(requests)(
    "API $apiKey v$apiVersion is served, decodes exactly and re-encodes byte for byte",
    (captured) => {
      expect(roundTrip(captured)).toMatchObject({
        requestApiKey: captured.apiKey,
        requestApiVersion: captured.apiVersion,
        ...header,
      });
    },
  );
}

describe("requests captured from kafkajs", () => {
  it("cover the APIs kafkajs uses for admin, produce, fetch, groups and transactions", () => {
    expect(kafkajs.requests.length).toBeGreaterThanOrEqual(24);
    const keys = new Set(kafkajs.requests.map((r) => r.apiKey));
    for (const key of TRANSACTION_KEYS) expect(keys).toContain(key);
  });

  roundTripsEach(kafkajs.requests, { clientId: "capture" });
});

describe.each(clients)("requests captured from $client", ({ client, requests }) => {
  it("cover metadata, produce, fetch, offsets and groups (and confluent-kafka's transactions)", () => {
    const keys = new Set(requests.map((r) => r.apiKey));
    for (const key of [0, 1, 2, 3, 10, 11, 12, 14, 18]) expect(keys).toContain(key);
    if (client.startsWith("confluent-kafka"))
      for (const key of TRANSACTION_KEYS) expect(keys).toContain(key);
  });

  roundTripsEach(requests);
});

describe.each(negotiated)("requests captured from $client at every version", ({ requests }) => {
  roundTripsEach(requests);
});

describe("the captured requests", () => {
  const name = (apiKey: number, version: number): string =>
    `${table.get(apiKey)!.schema.name} v${version}`;
  const captured = new Set(
    [kafkajs, ...clients, ...negotiated].flatMap(({ requests }) =>
      requests.map((r) => name(r.apiKey, r.apiVersion)),
    ),
  );
  // Every version advertised and served: Produce v0-v2 are advertised, but a request at them
  // closes the connection (handlers/produce.ts), so none can round-trip.
  const served = table.advertised.flatMap(({ apiKey, maxVersion }) => {
    const from = table.get(apiKey)!.minVersion;
    return Array.from({ length: maxVersion - from + 1 }, (_, i) => name(apiKey, from + i));
  });

  it("cover every version the table serves, but those no client here sends", () => {
    expect(served.filter((pair) => !captured.has(pair) && !NOT_CAPTURED.has(pair))).toEqual([]);
  });

  it("leave uncovered only versions served and not captured (else the list of exceptions is stale)", () => {
    const stale = [...NOT_CAPTURED.keys()].filter(
      (pair) => captured.has(pair) || !served.includes(pair),
    );
    expect(stale).toEqual([]);
  });
});
