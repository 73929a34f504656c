/** Characters of a UUID as text, and bytes of its binary form. */
export const UUID_CHARS = 36;
export const UUID_BYTES = 16;

const DASH = 0x2d;
const HEX = "0123456789abcdef";

/**
 * Writes a lower-case UUID's 16 bytes into `out` at `at`; false for any other text (the bytes
 * written so far are then meaningless). By hand, for what keeps many message ids: a regular
 * expression, a dash-free copy and a hex decode cost several times as much.
 */
export function writeUuidBytes(id: string, out: Uint8Array, at: number): boolean {
  if (id.length !== UUID_CHARS) return false;
  let i = 0;
  for (let b = 0; b < UUID_BYTES; b++) {
    if ((b === 4 || b === 6 || b === 8 || b === 10) && id.charCodeAt(i++) !== DASH) return false;
    const high = hexDigit(id.charCodeAt(i++));
    const low = hexDigit(id.charCodeAt(i++));
    if (high < 0 || low < 0) return false;
    out[at + b] = (high << 4) | low;
  }
  return true;
}

/** The lower-case UUID text of the 16 bytes at `at`. */
export function readUuidBytes(bytes: Uint8Array, at: number): string {
  let text = "";
  for (let b = 0; b < UUID_BYTES; b++) {
    if (b === 4 || b === 6 || b === 8 || b === 10) text += "-";
    const byte = bytes[at + b]!;
    text += HEX[byte >> 4]! + HEX[byte & 15]!;
  }
  return text;
}

/** The value of a lower-case hex digit's character code, or -1. */
function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}
