import type { Scalar } from "./pattern.js";

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
   * For walks over JSON text: per first character (below 128; 128 for all others), the children
   * whose key can be compared in place (no quote or backslash in it), each key followed by the
   * closing quote.
   */
  private quotedByFirst: (readonly string[] | undefined)[] = [];
  private childByFirst: (readonly number[] | undefined)[] = [];
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
   * The number of the child (in `childNodes`) whose key, with its closing quote, starts at
   * `text[start]`, compared in place: the key's text ends at `start + childKeys[i].length`.
   * -1 when there is none; a key with escapes in the text is never found here.
   */
  childAt(text: string, start: number): number {
    const code = text.charCodeAt(start);
    const first = code < 128 ? code : 128;
    const quoted = this.quotedByFirst[first];
    if (quoted === undefined) return -1;
    for (let i = 0; i < quoted.length; i++)
      if (text.startsWith(quoted[i]!, start)) return this.childByFirst[first]![i]!;
    return -1;
  }

  /** Fixes the arrays walks read; call after the last change to the tree. */
  freeze(): void {
    this.childKeys = [...this.children.keys()];
    this.childNodes = [...this.children.values()];
    this.hasChildren = this.childKeys.length > 0;
    this.childInherited = this.childKeys.map((key) => key in Object.prototype);
    const quoted: string[][] = [];
    const numbers: number[][] = [];
    this.childKeys.forEach((key, i) => {
      // The empty key starts with its closing quote.
      const code = key === "" ? 0x22 : key.charCodeAt(0);
      const first = code < 128 ? code : 128;
      // A quote or backslash in a key is escaped in the text: such keys are never in place.
      if (key.includes('"') || key.includes("\\")) return;
      (quoted[first] ??= []).push(`${key}"`);
      (numbers[first] ??= []).push(i);
    });
    this.quotedByFirst = Array.from({ length: 129 }, (_, c) => quoted[c]);
    this.childByFirst = Array.from({ length: 129 }, (_, c) => numbers[c]);
    for (const child of this.childNodes) child.freeze();
  }

  /** Forgets every recorded value below this node (when match numbers start over). */
  resetSeen(): void {
    this.seen = 0;
    this.valueCount = 0;
    for (const child of this.childNodes) child.resetSeen();
  }
}
