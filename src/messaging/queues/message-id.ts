import { randomFillSync } from "node:crypto";

/** UUIDs formatted at a time from one draw of random bytes. */
const IDS_PER_DRAW = 128;
const UUID_CHARS = 36;

const random = Buffer.allocUnsafeSlow(IDS_PER_DRAW * 16);
const text = Buffer.allocUnsafeSlow(IDS_PER_DRAW * UUID_CHARS);
const HEX = Buffer.from("0123456789abcdef", "latin1");
let next = IDS_PER_DRAW;

/**
 * A random (version 4) UUID for a new message, as SQS's MessageIds are. The same as
 * `crypto.randomUUID()`, cheaper: Node builds each of its UUIDs from a dozen string pieces
 * (about 600 bytes of garbage a message, the largest single source in a send); here a draw of
 * random bytes is formatted as text in one buffer and each id is one string cut from it.
 */
export function newMessageId(): string {
  if (next === IDS_PER_DRAW) refill();
  const at = next++ * UUID_CHARS;
  return text.toString("latin1", at, at + UUID_CHARS);
}

function refill(): void {
  randomFillSync(random);
  for (let id = 0; id < IDS_PER_DRAW; id++) {
    const bytes = id * 16;
    random[bytes + 6] = (random[bytes + 6]! & 0x0f) | 0x40; // version 4
    random[bytes + 8] = (random[bytes + 8]! & 0x3f) | 0x80; // RFC 4122 variant
    let out = id * UUID_CHARS;
    for (let i = 0; i < 16; i++) {
      if (i === 4 || i === 6 || i === 8 || i === 10) text[out++] = 0x2d; // "-"
      const byte = random[bytes + i]!;
      text[out++] = HEX[byte >> 4]!;
      text[out++] = HEX[byte & 15]!;
    }
  }
  next = 0;
}
