import type { Scalar } from "./pattern.js";
import { hashOf } from "./text-hash.js";

/** How many places of an object's keys a path node remembers (see `learnKey`). */
const MAX_GUESSED_KEYS = 64;

/**
 * A node of the tree of field paths the patterns of an index mention. A walk over an event
 * records here the leaf values it finds at an indexed path; the automaton then reads them.
 */
export class PathNode {
  readonly children = new Map<string, PathNode>();
  /** The children as parallel arrays, for a walk without iterator allocations. */
  childKeys: string[] = [];
  childNodes: PathNode[] = [];
  /** Per child: whether plain objects inherit its key ("constructor"), so it needs `hasOwn`. */
  childInherited: boolean[] = [];
  /**
   * For walks over JSON text: the children by the hash of their key (`extendHash`), open
   * addressing with linear probing; each slot holds a child's number plus one, 0 when empty.
   */
  private keySlots = new Int32Array(1);
  private keyHashes: number[] = [];
  /**
   * For walks over JSON text: the key (without escapes) found at each place of the objects
   * walked here, as last seen, and its child (undefined when no pattern names it).
   */
  private readonly guessedKeys: Uint16Array[] = [];
  private readonly guessedChildren: (PathNode | undefined)[] = [];
  /** Whether anything below this node can be matched: an object here is worth walking. */
  hasChildren = false;
  /** Whether some condition names this path: its leaf values are recorded. */
  indexed = false;
  /** The match in which a leaf value was last recorded here; older values are stale. */
  seen = 0;
  /** The leaf values of the current match, in `values[0 .. valueCount)` (a reused list). */
  readonly values: Scalar[] = [];
  valueCount = 0;

  /** Records a leaf value found at this path during match number `epoch`. */
  record(value: Scalar, epoch: number): void {
    if (this.seen !== epoch) {
      this.seen = epoch;
      this.valueCount = 0;
    }
    this.values[this.valueCount++] = value;
  }

  /**
   * The child whose key is `text[start, end)`, whose hash is `hash`, compared in place (the
   * text of the key must have no escapes); undefined when there is none.
   */
  childAt(text: string, start: number, end: number, hash: number): PathNode | undefined {
    const slots = this.keySlots;
    const mask = slots.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const child = slots[slot]! - 1;
      if (child === -1) return undefined;
      if (this.keyHashes[child] !== hash) continue;
      const key = this.childKeys[child]!;
      if (key.length !== end - start) continue;
      let k = 0;
      while (k < key.length && key.charCodeAt(k) === text.charCodeAt(start + k)) k++;
      if (k === key.length) return this.childNodes[child];
    }
  }

  /** The key last found at place `index` of an object here, if any, as its character codes. */
  keyGuess(index: number): Uint16Array | undefined {
    return index < this.guessedKeys.length ? this.guessedKeys[index] : undefined;
  }

  /** The child of the key `keyGuess(index)` gave (undefined when no pattern names it). */
  guessedChild(index: number): PathNode | undefined {
    return this.guessedChildren[index];
  }

  /**
   * Remembers that the key at place `index` of an object here is `text[start, end)`, without
   * escapes, and leads to `child`. Only the first places are kept, so that objects with
   * ever new keys cost a bounded amount of memory.
   */
  learnKey(
    index: number,
    text: string,
    start: number,
    end: number,
    child: PathNode | undefined,
  ): void {
    if (index >= MAX_GUESSED_KEYS || index > this.guessedKeys.length) return;
    const codes = new Uint16Array(end - start);
    for (let k = 0; k < codes.length; k++) codes[k] = text.charCodeAt(start + k);
    this.guessedKeys[index] = codes;
    this.guessedChildren[index] = child;
  }

  /** Fixes the arrays walks read; call after the last change to the tree. */
  freeze(): void {
    this.childKeys = [...this.children.keys()];
    this.childNodes = [...this.children.values()];
    this.hasChildren = this.childKeys.length > 0;
    this.childInherited = this.childKeys.map((key) => key in Object.prototype);
    this.keyHashes = this.childKeys.map(hashOf);
    let size = 2;
    while (size < this.childKeys.length * 2) size *= 2;
    this.keySlots = new Int32Array(size);
    this.keyHashes.forEach((hash, child) => {
      let slot = hash & (size - 1);
      while (this.keySlots[slot] !== 0) slot = (slot + 1) & (size - 1);
      this.keySlots[slot] = child + 1;
    });
    for (const child of this.childNodes) child.freeze();
  }

  /** Forgets every recorded value below this node (when match numbers start over). */
  resetSeen(): void {
    this.seen = 0;
    this.valueCount = 0;
    for (const child of this.childNodes) child.resetSeen();
  }
}
