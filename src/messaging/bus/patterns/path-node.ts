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
  /** Per key length, the children whose key has that length (for walks over JSON text). */
  private byLength: (number[] | undefined)[] = [];
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

  /** The child keyed by `text[start, end)`, compared in place; undefined when there is none. */
  childAt(text: string, start: number, end: number): PathNode | undefined {
    const candidates = this.byLength[end - start];
    if (candidates === undefined) return undefined;
    next: for (let i = 0; i < candidates.length; i++) {
      const child = candidates[i]!;
      const key = this.childKeys[child]!;
      for (let k = 0; k < key.length; k++)
        if (key.charCodeAt(k) !== text.charCodeAt(start + k)) continue next;
      return this.childNodes[child];
    }
    return undefined;
  }

  /** Fixes the arrays walks read; call after the last change to the tree. */
  freeze(): void {
    this.childKeys = [...this.children.keys()];
    this.childNodes = [...this.children.values()];
    this.hasChildren = this.childKeys.length > 0;
    this.childInherited = this.childKeys.map((key) => key in Object.prototype);
    this.byLength = [];
    this.childKeys.forEach((key, i) => (this.byLength[key.length] ??= []).push(i));
    for (const child of this.childNodes) child.freeze();
  }

  /** Forgets every recorded value below this node (when match numbers start over). */
  resetSeen(): void {
    this.seen = 0;
    this.valueCount = 0;
    for (const child of this.childNodes) child.resetSeen();
  }
}
