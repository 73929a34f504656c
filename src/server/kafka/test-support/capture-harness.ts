// What the capture scripts (capture-*.ts) share: a run serves a client from a Sluice listener on
// embedded topics, behind a relaying socket that records the first request of each API and
// version. A run may advertise lower highest versions than the listener serves (a ceiling), so
// that a client which picks the highest version both sides know (kafkajs, librdkafka,
// @platformatic/kafka, kafka-python's admin) sends each lower version in turn; the listener
// then serves exactly those versions, and the client's session goes on as usual.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer, type AddressInfo, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { EmbeddedTopicService } from "../../../messaging/topics/embedded-topic-service.js";
import type { ApiHandler } from "../api-handler.js";
import { ApiTable } from "../api-table.js";
import { embeddedKafkaBackend } from "../embedded-kafka-backend.js";
import {
  groupHandlers,
  phaseOneHandlers,
  producerHandlers,
  transactionHandlers,
} from "../handlers/index.js";
import { KafkaServer } from "../kafka-server.js";
import {
  API_VERSIONS_KEY,
  codecFor,
  requestHeaderCodec,
  responseHeaderCodec,
} from "../protocol/api-codecs.js";
import { FrameDecoder } from "../protocol/frame-decoder.js";
import { apiVersions } from "../protocol/schemas/index.js";
import { WireReader } from "../protocol/wire-reader.js";
import { WireWriter } from "../protocol/wire-writer.js";

export interface CapturedRequest {
  readonly apiKey: number;
  readonly apiVersion: number;
  /** The frame as the client sent it, without its size prefix. */
  readonly hex: string;
}

/** The highest version a run advertises of an API; undefined: every version served. */
export type Ceiling = (apiKey: number) => number | undefined;

/** Every version served. */
export const UNCLAMPED: Ceiling = () => undefined;

/**
 * At most `level` of every API, but never below the lowest version the client implements of it
 * (`floors`, by API key): a client that finds no version of its own gives up.
 */
export function atMost(level: number, floors: ReadonlyMap<number, number> = new Map()): Ceiling {
  return (apiKey) => Math.max(level, floors.get(apiKey) ?? 0);
}

/** The rows the listener serves on embedded topics. */
function servedHandlers(): ApiHandler<never, object>[] {
  return [
    ...phaseOneHandlers(),
    ...groupHandlers(),
    ...producerHandlers(),
    ...transactionHandlers(),
  ];
}

/** What the codec test decodes fixtures with. */
const SERVED = new ApiTable(servedHandlers());

/** The served rows, each capped by the ceiling (not below its minimum). */
function clampedHandlers(ceiling: Ceiling): ApiHandler<never, object>[] {
  return servedHandlers().map((handler) => {
    const top = ceiling(handler.schema.apiKey);
    if (top === undefined) return handler;
    return {
      ...handler,
      maxVersion: Math.max(handler.minVersion, Math.min(handler.maxVersion, top)),
    };
  });
}

/**
 * The listener's own answer to an ApiVersions request at a version it does not serve (KIP-511:
 * an error and a v0 body), with ApiVersions itself capped too: the listener always serves
 * ApiVersions up to v3, so the relay answers the versions above the ceiling in its stead.
 */
function refusedApiVersions(correlationId: number, table: ApiTable, top: number): Buffer {
  const capped = {
    ...table.unsupportedApiVersionsAnswer(),
    apiKeys: table.advertised.map((row) =>
      row.apiKey === API_VERSIONS_KEY ? { ...row, maxVersion: top } : row,
    ),
  };
  const writer = new WireWriter();
  const setSize = writer.reserveInt32();
  responseHeaderCodec(apiVersions, 0).encode(writer, { correlationId });
  codecFor(apiVersions.response, 0).encode(writer, capped);
  setSize(writer.length - 4);
  return writer.toBuffer();
}

/** The frame with its size prefix again, as it came. */
function framed(frame: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(frame.length);
  return Buffer.concat([size, frame]);
}

/**
 * Why a request is not at a version the listener serves, or does not decode to its last byte
 * and encode to the same bytes again (as the codec test checks); undefined when it is and does.
 */
function notExact(request: CapturedRequest): string | undefined {
  const handler = SERVED.get(request.apiKey)!;
  if (request.apiVersion < handler.minVersion || request.apiVersion > handler.maxVersion)
    return `served from v${handler.minVersion} to v${handler.maxVersion}`;
  try {
    const reader = new WireReader(Buffer.from(request.hex, "hex"));
    const headerCodec = requestHeaderCodec(handler.schema, request.apiVersion);
    const bodyCodec = codecFor(handler.schema.request, request.apiVersion);
    const header = headerCodec.decode(reader);
    const body = bodyCodec.decode(reader);
    if (reader.remaining() > 0) return `${reader.remaining()} bytes after the request`;
    const writer = new WireWriter();
    headerCodec.encode(writer, header);
    bodyCodec.encode(writer, body);
    return writer.toBuffer().toString("hex") === request.hex ? undefined : "encodes differently";
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/**
 * Serves a client under a ceiling while `drive` runs it against the bootstrap address given;
 * resolves with the first request of each API and version it sent. Connections the listener
 * closed on an error are reported on stderr, and so are requests left out: at a version the
 * listener does not serve (it closed the connection), or not decoding exactly (a bug of the
 * client or of the listener's codec).
 */
export async function captureRun(
  ceiling: Ceiling,
  drive: (bootstrap: string) => Promise<void>,
): Promise<CapturedRequest[]> {
  const captured = new Map<string, CapturedRequest>();
  const handlers = clampedHandlers(ceiling);
  const table = new ApiTable(handlers);
  const apiVersionsTop = ceiling(API_VERSIONS_KEY);
  let upstreamPort = 0;
  const sockets = new Set<Socket>();
  const relay = createServer((client) => {
    const upstream = connect(upstreamPort, "127.0.0.1");
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    }
    const frames = new FrameDecoder();
    client.on("data", (chunk: Buffer) => {
      for (const frame of frames.push(chunk)) {
        const apiKey = frame.readInt16BE(0);
        const apiVersion = frame.readInt16BE(2);
        if (
          apiKey === API_VERSIONS_KEY &&
          apiVersionsTop !== undefined &&
          apiVersion > apiVersionsTop
        ) {
          client.write(refusedApiVersions(frame.readInt32BE(4), table, apiVersionsTop));
          continue;
        }
        const key = `${apiKey}/${apiVersion}`;
        if (!captured.has(key))
          captured.set(key, { apiKey, apiVersion, hex: frame.toString("hex") });
        upstream.write(framed(frame));
      }
    });
    upstream.on("data", (chunk: Buffer) => client.write(chunk));
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  });
  await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
  const relayPort = (relay.address() as AddressInfo).port;
  // Embedded topics, so that transactions are served too.
  const dir = mkdtempSync(join(tmpdir(), "sluice-capture-"));
  const topics = await EmbeddedTopicService.open(dir, { fsync: "never" });
  const server = await KafkaServer.listen({
    backend: embeddedKafkaBackend(topics),
    port: 0,
    advertisedPort: relayPort,
    handlers,
    onConnectionError: (error) => console.error(`listener closed a connection: ${error.message}`),
  });
  upstreamPort = server.port;
  try {
    await drive(`127.0.0.1:${relayPort}`);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => relay.close(resolve));
    await server.close();
    await topics.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return [...captured.values()].filter((request) => {
    const why = notExact(request);
    if (why !== undefined)
      console.error(
        `left out API ${request.apiKey} v${request.apiVersion} (${why}): ${request.hex}`,
      );
    return why === undefined;
  });
}

/** The first request of each API and version over several runs. */
export class CapturedRequests {
  private readonly byKey = new Map<string, CapturedRequest>();

  add(requests: readonly CapturedRequest[]): void {
    for (const r of requests) {
      const key = `${r.apiKey}/${r.apiVersion}`;
      if (!this.byKey.has(key)) this.byKey.set(key, r);
    }
  }

  /** In API key, then version order. */
  sorted(): CapturedRequest[] {
    return [...this.byKey.values()].sort(
      (a, b) => a.apiKey - b.apiKey || a.apiVersion - b.apiVersion,
    );
  }

  /** "0v7 1v11 …", for the script's output. */
  summary(): string {
    return this.sorted()
      .map((r) => `${r.apiKey}v${r.apiVersion}`)
      .join(" ");
  }
}

/** Writes a fixture next to this file, as the codec test reads it. */
export function writeFixture(name: string, value: unknown): string {
  const file = fileURLToPath(new URL(`./${name}`, import.meta.url));
  writeFileSync(file, JSON.stringify(value, null, 2) + "\n");
  return file;
}
