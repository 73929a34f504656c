import { AffixTable } from "./affix-table.js";

/** A wildcard pattern indexed by one of its literal ends; `regex` confirms what the end cannot. */
interface Entry {
  readonly item: number;
  /** undefined when the indexed end alone decides (`abc*`, `*abc`). */
  readonly regex: RegExp | undefined;
}

/** The literal text before the first and after the last unescaped `*`, and how many stars. */
export function wildcardShape(text: string): { head: string; tail: string; stars: number } {
  const segments: string[] = [""];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "\\" && i + 1 < text.length) {
      segments[segments.length - 1] += text[++i]!;
    } else if (c === "*") segments.push("");
    else segments[segments.length - 1] += c;
  }
  return { head: segments[0]!, tail: segments[segments.length - 1]!, stars: segments.length - 1 };
}

/**
 * Many wildcard patterns of one field. Each is filed under its literal head (or, when it starts
 * with `*`, its literal tail) in a shared prefix (suffix) table, so a value meets only the
 * patterns whose literal end it has: a lookup costs one probe per distinct head length plus the
 * candidates found, not one regular expression per pattern. Only patterns with no literal end at
 * all (`*`, `*x*`) are tried one by one.
 */
export class WildcardTable {
  private readonly exact = new Map<string, number[]>();
  private readonly heads = new AffixTable<Entry>(false);
  private readonly tails = new AffixTable<Entry>(true);
  private readonly everything: number[] = [];
  private readonly scanned: Entry[] = [];

  add(text: string, regex: RegExp, item: number): void {
    const { head, tail, stars } = wildcardShape(text);
    if (stars === 0) {
      const list = this.exact.get(head);
      if (list === undefined) this.exact.set(head, [item]);
      else list.push(item);
    } else if (head !== "") {
      this.heads.add(head, { item, regex: stars === 1 && tail === "" ? undefined : regex });
    } else if (tail !== "") {
      this.tails.add(tail, { item, regex: stars === 1 ? undefined : regex });
    } else if (stars === 1) {
      this.everything.push(item);
    } else this.scanned.push({ item, regex });
  }

  /**
   * Writes into `out` from `count` on the item of every pattern `value` matches (an item may
   * come more than once); returns the new count. `out` is a reused scratch list, never truncated.
   */
  lookup(value: string, out: number[], count: number): number {
    const exact = this.exact.get(value);
    if (exact !== undefined) for (let i = 0; i < exact.length; i++) out[count++] = exact[i]!;
    count = checkAll(this.heads, this.heads.lookup(value), value, out, count);
    count = checkAll(this.tails, this.tails.lookup(value), value, out, count);
    for (let i = 0; i < this.everything.length; i++) out[count++] = this.everything[i]!;
    return check(this.scanned, value, out, count);
  }
}

function checkAll(
  table: AffixTable<Entry>,
  lists: number,
  value: string,
  out: number[],
  count: number,
): number {
  for (let i = 0; i < lists; i++) count = check(table.found[i]!, value, out, count);
  return count;
}

function check(entries: readonly Entry[], value: string, out: number[], count: number): number {
  for (let i = 0; i < entries.length; i++) {
    const { item, regex } = entries[i]!;
    if (regex === undefined || regex.test(value)) out[count++] = item;
  }
  return count;
}
