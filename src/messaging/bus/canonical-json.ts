const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/** Deeper text is left to `JSON.parse` and `JSON.stringify`. */
const MAX_DEPTH = 64;
/** Keys of one object compared one by one for repeats; past this many, through a set. */
const KEYS_COMPARED_IN_LINE = 16;

/** Control characters (raw ones are not JSON; escaped ones are written `\uXXXX` below) and lone surrogates. */
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const SUSPECT = /[\u0000-\u001f\ud800-\udfff]/u;
const ALL_DIGITS = /^\d+$/;

const NOT_CANONICAL = -1;

/**
 * Whether `text` is a JSON object exactly as `JSON.stringify(JSON.parse(text))` writes it, so
 * that it can be stored and sent as it is, unparsed. False for anything else, JSON or not
 * (whitespace, numbers not in shortest form, escapes `JSON.stringify` does not write, repeated
 * keys, keys that are array indexes, which `JSON.stringify` would move to the front, nesting
 * deeper than 64); a caller then parses and serialises. Never true for text that is not JSON.
 */
export function isCanonicalJsonObject(text: string): boolean {
  if (text.charCodeAt(0) !== OPEN_OBJECT || SUSPECT.test(text)) return false;
  const scan = new CanonicalScan(text);
  return scan.object(0, 0) === text.length;
}

/** One pass over text already known to hold no control character and no lone surrogate. */
class CanonicalScan {
  /** The position of the next backslash at or after the last look (text.length if none). */
  private backslash = -1;
  /** Keys of the objects being scanned, innermost last. */
  private readonly keys: string[] = [];

  constructor(private readonly text: string) {}

  /** The position after the object at `pos`, or NOT_CANONICAL. */
  object(pos: number, depth: number): number {
    if (depth > MAX_DEPTH) return NOT_CANONICAL;
    const text = this.text;
    pos++;
    if (text.charCodeAt(pos) === CLOSE_OBJECT) return pos + 1;
    const keys = this.keys;
    const first = keys.length;
    let seen: Set<string> | undefined;
    for (;;) {
      if (text.charCodeAt(pos) !== QUOTE) return NOT_CANONICAL;
      const end = this.string(pos);
      if (end === NOT_CANONICAL) return NOT_CANONICAL;
      const key = text.slice(pos + 1, end - 1);
      // Array-index keys come first in JSON.stringify's order, whatever their place here.
      if (isDigit(key.charCodeAt(0)) && ALL_DIGITS.test(key)) return NOT_CANONICAL;
      // JSON.parse keeps one of repeated keys; compared as written (canonical escapes are unique).
      if (seen !== undefined) {
        if (seen.has(key)) return NOT_CANONICAL;
        seen.add(key);
      } else {
        for (let i = first; i < keys.length; i++) if (keys[i] === key) return NOT_CANONICAL;
        keys.push(key);
        if (keys.length - first > KEYS_COMPARED_IN_LINE) seen = new Set(keys.splice(first));
      }
      if (text.charCodeAt(end) !== COLON) return NOT_CANONICAL;
      pos = this.value(end + 1, depth);
      if (pos === NOT_CANONICAL) return NOT_CANONICAL;
      const c = text.charCodeAt(pos);
      if (c === CLOSE_OBJECT) {
        keys.length = first;
        return pos + 1;
      }
      if (c !== COMMA) return NOT_CANONICAL;
      pos++;
    }
  }

  private array(pos: number, depth: number): number {
    if (depth > MAX_DEPTH) return NOT_CANONICAL;
    const text = this.text;
    pos++;
    if (text.charCodeAt(pos) === CLOSE_ARRAY) return pos + 1;
    for (;;) {
      pos = this.value(pos, depth);
      if (pos === NOT_CANONICAL) return NOT_CANONICAL;
      const c = text.charCodeAt(pos);
      if (c === CLOSE_ARRAY) return pos + 1;
      if (c !== COMMA) return NOT_CANONICAL;
      pos++;
    }
  }

  private value(pos: number, depth: number): number {
    const text = this.text;
    const c = text.charCodeAt(pos);
    if (c === QUOTE) return this.string(pos);
    if (c === OPEN_OBJECT) return this.object(pos, depth + 1);
    if (c === OPEN_ARRAY) return this.array(pos, depth + 1);
    if (c === MINUS || isDigit(c)) return number(text, pos);
    for (const literal of LITERALS) if (text.startsWith(literal, pos)) return pos + literal.length;
    return NOT_CANONICAL;
  }

  /** The position after the string whose opening quote is at `pos`, or NOT_CANONICAL. */
  private string(pos: number): number {
    const text = this.text;
    let from = pos + 1;
    for (;;) {
      const quote = text.indexOf('"', from);
      if (quote === -1) return NOT_CANONICAL;
      if (this.backslash < from) {
        const found = text.indexOf("\\", from);
        this.backslash = found === -1 ? text.length : found;
      }
      if (this.backslash > quote) return quote + 1;
      // JSON.stringify writes these escapes only (others as \u, which is left to it).
      const escaped = text.charCodeAt(this.backslash + 1);
      if (!SHORT_ESCAPES.has(escaped)) return NOT_CANONICAL;
      from = this.backslash + 2;
    }
  }
}

const LITERALS = ["true", "false", "null"] as const;
/** `"`, `\`, b, f, n, r, t. */
const SHORT_ESCAPES = new Set([0x22, 0x5c, 0x62, 0x66, 0x6e, 0x72, 0x74]);

/** The position after the number at `pos` if it is written as JSON.stringify writes it. */
function number(text: string, pos: number): number {
  let end = pos;
  if (text.charCodeAt(end) === MINUS) end++;
  const firstDigit = end;
  if (text.charCodeAt(end) === ZERO) end++;
  else if (isDigit(text.charCodeAt(end))) while (isDigit(text.charCodeAt(end))) end++;
  else return NOT_CANONICAL;
  const digits = end - firstDigit;
  let plain = true;
  if (text.charCodeAt(end) === DOT) {
    plain = false;
    if (!isDigit(text.charCodeAt(++end))) return NOT_CANONICAL;
    while (isDigit(text.charCodeAt(end))) end++;
  }
  const e = text.charCodeAt(end);
  if (e === 0x65 || e === 0x45) {
    plain = false;
    end++;
    const sign = text.charCodeAt(end);
    if (sign === 0x2b || sign === MINUS) end++;
    if (!isDigit(text.charCodeAt(end))) return NOT_CANONICAL;
    while (isDigit(text.charCodeAt(end))) end++;
  }
  // Integers of up to 15 digits are written back as they are, except -0 (written 0).
  if (plain && digits <= 15) {
    if (digits === 1 && pos !== firstDigit && text.charCodeAt(firstDigit) === ZERO)
      return NOT_CANONICAL;
    return end;
  }
  const token = text.slice(pos, end);
  return String(Number(token)) === token ? end : NOT_CANONICAL;
}

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}
