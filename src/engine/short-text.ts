/**
 * UTF-8 length and writing of short texts (header keys, ids) without a call into Node's native
 * code, which costs more than the work for a few dozen ASCII characters. Longer or non-ASCII
 * texts take Node's way.
 */
const SHORT_TEXT = 64;

/** Bytes of `text` in UTF-8. */
export function utf8Length(text: string): number {
  if (text.length > SHORT_TEXT) return Buffer.byteLength(text, "utf8");
  for (let i = 0; i < text.length; i++)
    if (text.charCodeAt(i) >= 0x80) return Buffer.byteLength(text, "utf8");
  return text.length;
}

/** Writes `text` as UTF-8 at `pos` (the buffer must have room); returns the position after it. */
export function writeUtf8(buf: Buffer, pos: number, text: string): number {
  if (text.length > SHORT_TEXT) return pos + buf.write(text, pos, "utf8");
  for (let i = 0; i < text.length; i++)
    if (text.charCodeAt(i) >= 0x80) return pos + buf.write(text, pos, "utf8");
  for (let i = 0; i < text.length; i++) buf[pos++] = text.charCodeAt(i);
  return pos;
}
