// A bare Kafka protocol client over the listener's own codec, for tests that need exact control
// of versions, headers and bytes (kafkajs picks versions itself).
import { connect, type Socket } from "node:net";
import { codecFor, requestHeaderCodec, responseHeaderCodec } from "../protocol/api-codecs.js";
import { FrameDecoder } from "../protocol/frame-decoder.js";
import type { KafkaStruct } from "../protocol/message-codec.js";
import type { ApiSchema } from "../protocol/schema.js";
import { WireReader } from "../protocol/wire-reader.js";
import { WireWriter } from "../protocol/wire-writer.js";

export class RawKafkaClient {
  private readonly frames = new FrameDecoder();
  private readonly received: Buffer[] = [];
  private wake: (() => void) | undefined;
  private correlationId = 0;
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.received.push(...this.frames.push(chunk));
      this.wake?.();
    });
    socket.on("close", () => {
      this.closed = true;
      this.wake?.();
    });
  }

  static connect(port: number): Promise<RawKafkaClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, "127.0.0.1", () => resolve(new RawKafkaClient(socket)));
      socket.once("error", reject);
    });
  }

  /** Encodes a request frame (size, header, body). */
  static frame(api: ApiSchema, version: number, body: object, correlationId: number): Buffer {
    const writer = new WireWriter();
    const setSize = writer.reserveInt32();
    requestHeaderCodec(api, version).encode(writer, {
      requestApiKey: api.apiKey,
      requestApiVersion: version,
      correlationId,
      clientId: "raw-test",
    });
    codecFor(api.request, version).encode(writer, body);
    setSize(writer.length - 4);
    return writer.toBuffer();
  }

  /** Sends bytes as they are. */
  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Sends a request and decodes its response. */
  async request<T extends object = KafkaStruct>(
    api: ApiSchema,
    version: number,
    body: object,
  ): Promise<T> {
    const id = ++this.correlationId;
    this.write(RawKafkaClient.frame(api, version, body, id));
    const frame = await this.nextFrame();
    const reader = new WireReader(frame);
    const header = responseHeaderCodec(api, version).decode(reader);
    if (header.correlationId !== id)
      throw new Error(`correlation id ${String(header.correlationId)}, expected ${id}`);
    const response = codecFor(api.response, version).decode(reader);
    if (reader.remaining() !== 0)
      throw new Error(`${reader.remaining()} bytes left after the response`);
    return response as T;
  }

  /** The next response frame, or an error once the server closed the connection. */
  async nextFrame(timeoutMs = 5000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length === 0) {
      if (this.closed) throw new Error("connection closed by the server");
      if (Date.now() > deadline) throw new Error("no response in time");
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 50);
      });
    }
    return this.received.shift()!;
  }

  /** Resolves true once the server closes the connection (false if it stays open `timeoutMs`). */
  async closedByServer(timeoutMs = 2000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.closed;
  }

  close(): void {
    this.socket.destroy();
  }
}
