import type { PathNode } from "./path-node.js";
import type { Scalar } from "./pattern.js";

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/**
 * Walks JSON text along a tree of field paths, in the manner of quamina's flattener: the text is
 * read once, the leaf values at the paths the tree indexes are decoded and recorded at their
 * nodes (for the automaton to read), and everything else is skipped without being decoded (no objects, no strings for
 * fields no pattern names). Same results as walking `JSON.parse(text)` for text with no repeated
 * key in an object (as `JSON.stringify` writes it; with repeated keys every value is seen, where
 * JSON.parse keeps the last). Text that is not JSON throws a `SyntaxError`, though not every
 * malformation is caught where a skipped value holds it.
 */
export class JsonWalk {
  private text = "";
  private pos = 0;
  private epoch = 0;
  /** The position of the next backslash at or after the last look (text.length if none). */
  private backslash = 0;

  /** Records every leaf of `text` at an indexed path of `root` there, for match number `epoch`. */
  walk(text: string, root: PathNode, epoch: number): void {
    this.text = text;
    this.pos = 0;
    this.epoch = epoch;
    this.backslash = -1;
    try {
      this.space();
      this.value(root);
      this.space();
      if (this.pos !== text.length) this.fail();
    } finally {
      this.text = "";
    }
  }

  /**
   * The text of the value at `path` (object keys and array indexes) in the JSON `text`, or
   * undefined when there is none. For text as `JSON.stringify` writes it this is exactly
   * `JSON.stringify` of that value, so a part of a stored event is sent without parsing and
   * serialising it again.
   */
  textAt(text: string, path: readonly (string | number)[]): string | undefined {
    this.text = text;
    this.pos = 0;
    this.backslash = -1;
    try {
      this.space();
      for (const step of path) if (!this.enter(step)) return undefined;
      const start = this.pos;
      this.skipValue();
      return text.slice(start, this.pos);
    } finally {
      this.text = "";
    }
  }

  /** Moves into the member `step` of the object or array at the position; false if none. */
  private enter(step: string | number): boolean {
    const text = this.text;
    const open = text.charCodeAt(this.pos);
    if (open !== (typeof step === "number" ? OPEN_ARRAY : OPEN_OBJECT)) return false;
    const close = open === OPEN_ARRAY ? CLOSE_ARRAY : CLOSE_OBJECT;
    this.pos++;
    this.space();
    if (text.charCodeAt(this.pos) === close) return false;
    for (let index = 0; ; index++) {
      let found = index === step;
      if (open === OPEN_OBJECT) {
        if (text.charCodeAt(this.pos) !== QUOTE) this.fail();
        const start = this.pos + 1;
        const end = this.stringEnd(start);
        found = this.escapes(start, end)
          ? JSON.parse(text.slice(start - 1, end + 1)) === step
          : end - start === (step as string).length && text.startsWith(step as string, start);
        this.pos = end + 1;
        this.space();
        if (text.charCodeAt(this.pos++) !== COLON) this.fail(this.pos - 1);
        this.space();
      }
      if (found) return true;
      this.skipValue();
      this.space();
      const c = text.charCodeAt(this.pos++);
      if (c === close) return false;
      if (c !== COMMA) this.fail(this.pos - 1);
      this.space();
    }
  }

  private skipValue(): void {
    const c = this.text.charCodeAt(this.pos);
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) this.skipContainer();
    else this.skipScalar();
  }

  private value(at: PathNode | undefined): void {
    const c = this.text.charCodeAt(this.pos);
    if (c === OPEN_OBJECT) {
      if (at !== undefined && at.hasChildren) this.object(at);
      else this.skipContainer();
    } else if (c === OPEN_ARRAY) {
      if (at !== undefined && (at.hasChildren || at.indexed)) this.array(at);
      else this.skipContainer();
    } else if (at === undefined || !at.indexed) this.skipScalar();
    else at.record(this.scalar(), this.epoch);
  }

  private object(at: PathNode): void {
    const text = this.text;
    this.pos++;
    this.space();
    if (text.charCodeAt(this.pos) === CLOSE_OBJECT) {
      this.pos++;
      return;
    }
    for (;;) {
      if (text.charCodeAt(this.pos) !== QUOTE) this.fail();
      const start = this.pos + 1;
      const end = this.stringEnd(start);
      // A key that equals a child's in place has no escapes; one that does not may have some.
      let child = at.childAt(text, start, end);
      if (child === undefined && this.escapes(start, end))
        child = at.children.get(JSON.parse(text.slice(start - 1, end + 1)) as string);
      this.pos = end + 1;
      this.space();
      if (text.charCodeAt(this.pos) !== COLON) this.fail();
      this.pos++;
      this.space();
      this.value(child);
      this.space();
      const c = text.charCodeAt(this.pos++);
      if (c === CLOSE_OBJECT) return;
      if (c !== COMMA) this.fail(this.pos - 1);
      this.space();
    }
  }

  private array(at: PathNode): void {
    const text = this.text;
    this.pos++;
    this.space();
    if (text.charCodeAt(this.pos) === CLOSE_ARRAY) {
      this.pos++;
      return;
    }
    for (;;) {
      this.value(at);
      this.space();
      const c = text.charCodeAt(this.pos++);
      if (c === CLOSE_ARRAY) return;
      if (c !== COMMA) this.fail(this.pos - 1);
      this.space();
    }
  }

  /** Decodes the string, number or literal at the position. */
  private scalar(): Scalar {
    const text = this.text;
    const start = this.pos;
    const c = text.charCodeAt(start);
    if (c === QUOTE) {
      const end = this.stringEnd(start + 1);
      this.pos = end + 1;
      return !this.escapes(start + 1, end)
        ? text.slice(start + 1, end)
        : (JSON.parse(text.slice(start, end + 1)) as string);
    }
    this.skipScalar();
    const token = text.slice(start, this.pos);
    if (c === 0x74 && token === "true") return true;
    if (c === 0x66 && token === "false") return false;
    if (c === 0x6e && token === "null") return null;
    // JSON's numbers are a subset of what Number reads; anything else is refused here.
    const number = Number(token);
    if (token === "" || Number.isNaN(number) || !isJsonNumberStart(c)) this.fail(start);
    return number;
  }

  /** Skips a string, number or literal. */
  private skipScalar(): void {
    const text = this.text;
    if (text.charCodeAt(this.pos) === QUOTE) {
      this.pos = this.stringEnd(this.pos + 1) + 1;
      return;
    }
    let pos = this.pos;
    for (; pos < text.length; pos++) {
      const c = text.charCodeAt(pos);
      if (c === COMMA || c === CLOSE_OBJECT || c === CLOSE_ARRAY || isSpace(c)) break;
    }
    if (pos === this.pos) this.fail();
    this.pos = pos;
  }

  /** Skips an object or array, nested ones and strings (with their brackets) included. */
  private skipContainer(): void {
    const text = this.text;
    let depth = 0;
    let pos = this.pos;
    for (; pos < text.length; pos++) {
      const c = text.charCodeAt(pos);
      if (c === QUOTE) pos = this.stringEnd(pos + 1);
      else if (c === OPEN_OBJECT || c === OPEN_ARRAY) depth++;
      else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
        if (--depth === 0) {
          this.pos = pos + 1;
          return;
        }
      }
    }
    this.fail(pos);
  }

  /** The position of the quote closing the string whose text starts at `start`. */
  private stringEnd(start: number): number {
    const text = this.text;
    let quote = text.indexOf('"', start);
    for (;;) {
      if (quote === -1) this.fail(text.length);
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

  private space(): void {
    const text = this.text;
    let pos = this.pos;
    if (text.charCodeAt(pos) > 0x20) return; // the common case: no space at all
    while (isSpace(text.charCodeAt(pos))) pos++;
    this.pos = pos;
  }

  private fail(at = this.pos): never {
    throw new SyntaxError(`Unexpected JSON at position ${at}`);
  }
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** A JSON number starts with a minus sign or a digit (Number also reads "+1", ".5", "0x1"). */
function isJsonNumberStart(c: number): boolean {
  return c === 0x2d || (c >= 0x30 && c <= 0x39);
}
