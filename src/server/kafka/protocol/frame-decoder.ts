import { KafkaProtocolError } from "./protocol-error.js";

/** Kafka's default socket.request.max.bytes (100 MiB). */
export const DEFAULT_MAX_FRAME_BYTES = 100 * 1024 * 1024;

/**
 * Splits a TCP byte stream into Kafka frames (an int32 size, then that many bytes). Nothing is
 * allocated for a frame until all of its bytes have arrived, so a size a header merely claims
 * costs nothing; a size beyond the limit is refused at once.
 */
export class FrameDecoder {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly maxFrameBytes = DEFAULT_MAX_FRAME_BYTES) {}

  /** Adds received bytes; returns the frames (without their size prefix) now complete. */
  push(chunk: Buffer): Buffer[] {
    if (chunk.length > 0) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
    }
    const frames: Buffer[] = [];
    for (;;) {
      if (this.pendingBytes < 4) return frames;
      const size = this.peekSize();
      if (size < 0 || size > this.maxFrameBytes)
        throw new KafkaProtocolError("frame.size", `0 to ${this.maxFrameBytes} bytes, got ${size}`);
      if (this.pendingBytes < 4 + size) return frames;
      frames.push(this.takeFrame(size));
    }
  }

  /** Bytes received that do not yet form a whole frame. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  private peekSize(): number {
    const first = this.pending[0]!;
    if (first.length >= 4) return first.readInt32BE(0);
    const head = Buffer.concat(this.pending, Math.min(this.pendingBytes, 8));
    return head.readInt32BE(0);
  }

  private takeFrame(size: number): Buffer {
    const total = 4 + size;
    const first = this.pending[0]!;
    let frame: Buffer;
    if (first.length >= total) {
      frame = first.subarray(4, total);
      if (first.length === total) this.pending.shift();
      else this.pending[0] = first.subarray(total);
    } else {
      const joined = Buffer.concat(this.pending, this.pendingBytes);
      frame = joined.subarray(4, total);
      this.pending = joined.length > total ? [joined.subarray(total)] : [];
    }
    this.pendingBytes -= total;
    return frame;
  }
}
