import type { PathNode } from "./path-node.js";
import { extendHash } from "./text-hash.js";

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const TRUE_START = 0x74;
const FALSE_START = 0x66;
const NULL_START = 0x6e;

/**
 * Walks JSON text along a tree of field paths, in the manner of quamina's flattener: the text is
 * read once, the leaf values at the paths the tree indexes are decoded and recorded at their
 * nodes (for the automaton to read), and everything else is skipped without being decoded (no
 * objects, no strings for fields no pattern names). Same results as walking `JSON.parse(text)`
 * for text with no repeated key in an object (as `JSON.stringify` writes it; with repeated keys
 * every value is seen, where JSON.parse keeps the last). Text that is not JSON throws a
 * `SyntaxError`, though not every malformation is caught where a skipped value holds it.
 *
 * Positions are passed and returned rather than kept in a field, and string values are crossed
 * with `indexOf` (which scans many characters at once); a key, short as keys are, is read once
 * character by character for its end and its hash, by which its path node is looked up. What is
 * left per token is a few comparisons, so the walk costs a fraction of `JSON.parse`.
 */
export class JsonWalk {
  private text = "";
  private epoch = 0;
  /** The position of the next backslash at or after the last look (text.length if none). */
  private backslash = 0;

  /** Records every leaf of `text` at an indexed path of `root` there, for match number `epoch`. */
  walk(text: string, root: PathNode, epoch: number): void {
    this.text = text;
    this.epoch = epoch;
    this.backslash = -1;
    try {
      let pos = this.value(text, skipSpace(text, 0), root);
      pos = skipSpace(text, pos);
      if (pos !== text.length) fail(pos);
    } finally {
      this.text = "";
    }
  }

  /**
   * The text of the value at `path` (object keys and array indexes) in the JSON `text`, or
   * undefined when there is none. For text as `JSON.stringify` writes it this is exactly
   * `JSON.stringify` of that value, so a part of a stored event is sent without parsing and
   * serialising it again. With `start`, the path's steps from `firstStep` on are followed from
   * the value that begins there.
   */
  textAt(
    text: string,
    path: readonly (string | number)[],
    start = 0,
    firstStep = 0,
  ): string | undefined {
    this.text = text;
    this.backslash = -1;
    try {
      let pos = skipSpace(text, start);
      for (let i = firstStep; i < path.length; i++) {
        pos = this.enter(text, pos, path[i]!);
        if (pos === -1) return undefined;
      }
      return text.slice(pos, this.skipValue(text, pos));
    } finally {
      this.text = "";
    }
  }

  /** The position of the member `step` of the object or array at `pos`; -1 if none. */
  private enter(text: string, pos: number, step: string | number): number {
    const open = text.charCodeAt(pos);
    if (open !== (typeof step === "number" ? OPEN_ARRAY : OPEN_OBJECT)) return -1;
    const close = open === OPEN_ARRAY ? CLOSE_ARRAY : CLOSE_OBJECT;
    pos = skipSpace(text, pos + 1);
    if (text.charCodeAt(pos) === close) return -1;
    for (let index = 0; ; index++) {
      let found = index === step;
      if (open === OPEN_OBJECT) {
        if (text.charCodeAt(pos) !== QUOTE) fail(pos);
        const start = pos + 1;
        const end = this.stringEnd(text, start);
        found = this.escapes(start, end)
          ? JSON.parse(text.slice(start - 1, end + 1)) === step
          : end - start === (step as string).length && text.startsWith(step as string, start);
        pos = skipSpace(text, end + 1);
        if (text.charCodeAt(pos) !== COLON) fail(pos);
        pos = skipSpace(text, pos + 1);
      }
      if (found) return pos;
      pos = skipSpace(text, this.skipValue(text, pos));
      const c = text.charCodeAt(pos);
      if (c === close) return -1;
      if (c !== COMMA) fail(pos);
      pos = skipSpace(text, pos + 1);
    }
  }

  /** The position after the value at `pos`. */
  private skipValue(text: string, pos: number): number {
    const c = text.charCodeAt(pos);
    if (c === QUOTE) return this.stringEnd(text, pos + 1) + 1;
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) return this.skipContainer(text, pos);
    return scalarEnd(text, pos);
  }

  /** Walks the value at `pos`, at path node `at` (undefined: no pattern names it); returns its end. */
  private value(text: string, pos: number, at: PathNode | undefined): number {
    let c = text.charCodeAt(pos);
    if (c <= 0x20) {
      pos = skipSpace(text, pos);
      c = text.charCodeAt(pos);
    }
    if (c === QUOTE) {
      const start = pos + 1;
      const end = this.stringEnd(text, start);
      if (at !== undefined && at.indexed)
        at.record(
          this.escapes(start, end)
            ? (JSON.parse(text.slice(pos, end + 1)) as string)
            : text.slice(start, end),
          this.epoch,
        );
      return end + 1;
    }
    if (c === OPEN_OBJECT)
      return at !== undefined && at.hasChildren
        ? this.object(text, pos, at)
        : this.skipContainer(text, pos);
    if (c === OPEN_ARRAY)
      return at !== undefined && (at.hasChildren || at.indexed)
        ? this.array(text, pos, at)
        : this.skipContainer(text, pos);
    const end = scalarEnd(text, pos);
    if (at !== undefined && at.indexed) at.record(literal(text, pos, end, c), this.epoch);
    return end;
  }

  private object(text: string, pos: number, at: PathNode): number {
    pos = skipSpace(text, pos + 1);
    if (text.charCodeAt(pos) === CLOSE_OBJECT) return pos + 1;
    // `place` counts the keys read, plus those of the last object here that this one lacks.
    for (let place = 0; ; place++) {
      if (text.charCodeAt(pos) !== QUOTE) fail(pos);
      const start = pos + 1;
      let end: number;
      let child: PathNode | undefined;
      // Objects at one path mostly have the same keys in the same order: the key found at this
      // place last time is tried first, by comparing its characters in place, and then the one
      // after it (this object lacks a key the last one had, such as an optional field).
      const guess = at.keyGuess(place);
      const next =
        guess === undefined || isKeyAt(text, start, guess) ? guess : at.keyGuess(++place);
      if (next !== undefined && (next === guess || isKeyAt(text, start, next))) {
        end = start + next.length;
        child = at.guessedChild(place);
      } else {
        if (next !== guess) place--;
        // The key's end and its hash in one pass; a key with escapes is decoded instead.
        end = start;
        let hash = 0;
        let k = 0;
        for (; end < text.length; end++) {
          k = text.charCodeAt(end);
          if (k === QUOTE || k === BACKSLASH) break;
          hash = extendHash(hash, k);
        }
        if (k === QUOTE) {
          child = at.childAt(text, start, end, hash);
          at.learnKey(place, text, start, end, child);
        } else {
          end = this.stringEnd(text, start);
          child = at.children.get(JSON.parse(text.slice(pos, end + 1)) as string);
        }
      }
      pos = end + 1;
      if (text.charCodeAt(pos) !== COLON) {
        pos = skipSpace(text, pos);
        if (text.charCodeAt(pos) !== COLON) fail(pos);
      }
      pos = this.value(text, pos + 1, child);
      let c = text.charCodeAt(pos);
      if (c <= 0x20) {
        pos = skipSpace(text, pos);
        c = text.charCodeAt(pos);
      }
      if (c === CLOSE_OBJECT) return pos + 1;
      if (c !== COMMA) fail(pos);
      if (text.charCodeAt(++pos) !== QUOTE) pos = skipSpace(text, pos);
    }
  }

  private array(text: string, pos: number, at: PathNode): number {
    pos = skipSpace(text, pos + 1);
    if (text.charCodeAt(pos) === CLOSE_ARRAY) return pos + 1;
    for (;;) {
      pos = this.value(text, pos, at);
      let c = text.charCodeAt(pos);
      if (c <= 0x20) {
        pos = skipSpace(text, pos);
        c = text.charCodeAt(pos);
      }
      if (c === CLOSE_ARRAY) return pos + 1;
      if (c !== COMMA) fail(pos);
      pos++;
    }
  }

  /** The position after the object or array at `pos`, nested ones and strings included. */
  private skipContainer(text: string, pos: number): number {
    let depth = 0;
    for (; pos < text.length; pos++) {
      const c = text.charCodeAt(pos);
      if (c === QUOTE) pos = this.stringEnd(text, pos + 1);
      else if (c === OPEN_OBJECT || c === OPEN_ARRAY) depth++;
      else if ((c === CLOSE_OBJECT || c === CLOSE_ARRAY) && --depth === 0) return pos + 1;
    }
    return fail(pos);
  }

  /** The position of the quote closing the string whose text starts at `start`. */
  private stringEnd(text: string, start: number): number {
    let quote = text.indexOf('"', start);
    for (;;) {
      if (quote === -1) fail(text.length);
      if (!this.escapes(start, quote)) return quote;
      let backslashes = 0;
      while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
      if (backslashes % 2 === 0) return quote;
      quote = text.indexOf('"', quote + 1);
    }
  }

  /**
   * Whether `text[start, end)` holds an escape sequence. Looks are made in increasing order
   * of `start`, so one search for the next backslash serves every look up to it: text without
   * escapes is searched once in all.
   */
  private escapes(start: number, end: number): boolean {
    if (this.backslash < start) {
      const found = this.text.indexOf("\\", start);
      this.backslash = found === -1 ? this.text.length : found;
    }
    return this.backslash < end;
  }
}

/**
 * Whether the text at `start` is the key whose character codes are `key`, followed by a quote
 * (the end of a key without escapes). Codes in a typed array are read with a plain load, where
 * `charCodeAt` first dispatches on how the string is stored.
 */
function isKeyAt(text: string, start: number, key: Uint16Array): boolean {
  const length = key.length;
  let k = 0;
  while (k < length && key[k] === text.charCodeAt(start + k)) k++;
  return k === length && text.charCodeAt(start + k) === QUOTE;
}

/** The position after the number or literal at `pos`. */
function scalarEnd(text: string, pos: number): number {
  let end = pos;
  for (; end < text.length; end++) {
    const c = text.charCodeAt(end);
    if (c === COMMA || c === CLOSE_OBJECT || c === CLOSE_ARRAY || c <= 0x20) break;
  }
  if (end === pos) fail(pos);
  return end;
}

/** Decodes the number or literal `text[start, end)` whose first character is `c`. */
function literal(text: string, start: number, end: number, c: number): number | boolean | null {
  const simple = simpleNumber(text, start, end);
  if (simple !== undefined) return simple;
  const token = text.slice(start, end);
  if (c === TRUE_START && token === "true") return true;
  if (c === FALSE_START && token === "false") return false;
  if (c === NULL_START && token === "null") return null;
  // JSON's numbers are a subset of what Number reads; anything else is refused here.
  const number = Number(token);
  if (Number.isNaN(number) || !isJsonNumberStart(c)) fail(start);
  return number;
}

/** Powers of ten that doubles hold exactly. */
const EXACT_POWERS_OF_TEN = Array.from({ length: 23 }, (_, i) => 10 ** i);

/**
 * The number written as `text[start, end)` when it is a plain decimal (an optional minus sign,
 * digits, optionally a point and digits) of at most 15 digits, read without cutting it out of
 * the text; undefined otherwise. Its digits form an integer that a double holds exactly, and
 * dividing it by an exact power of ten rounds once, correctly: the same double `Number` gives.
 */
function simpleNumber(text: string, start: number, end: number): number | undefined {
  let pos = start;
  const negative = text.charCodeAt(pos) === 0x2d;
  if (negative) pos++;
  let digits = 0;
  let point = -1;
  let mantissa = 0;
  for (; pos < end; pos++) {
    const c = text.charCodeAt(pos);
    if (c >= 0x30 && c <= 0x39) {
      mantissa = mantissa * 10 + (c - 0x30);
      digits++;
    } else if (c === 0x2e && point === -1 && digits > 0) point = digits;
    else return undefined;
  }
  if (digits === 0 || digits > 15 || point === digits) return undefined;
  const value = point === -1 ? mantissa : mantissa / EXACT_POWERS_OF_TEN[digits - point]!;
  return negative ? -value : value;
}

/** The position of the first character at or after `pos` that is not JSON whitespace. */
function skipSpace(text: string, pos: number): number {
  while (isSpace(text.charCodeAt(pos))) pos++;
  return pos;
}

function fail(at: number): never {
  throw new SyntaxError(`Unexpected JSON at position ${at}`);
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** A JSON number starts with a minus sign or a digit (Number also reads "+1", ".5", "0x1"). */
function isJsonNumberStart(c: number): boolean {
  return c === 0x2d || (c >= 0x30 && c <= 0x39);
}
