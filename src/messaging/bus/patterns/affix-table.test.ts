import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AffixTable } from "./affix-table.js";

function found(table: AffixTable<string>, value: string): string[] {
  const count = table.lookup(value);
  return table.found.slice(0, count).flat().sort();
}

describe("AffixTable", () => {
  it("tells apart affixes whose hashes collide", () => {
    // "Aa" and "BB" have the same 31-based hash (as in Java's String.hashCode).
    const prefixes = new AffixTable<string>(false);
    prefixes.add("Aa", "Aa");
    prefixes.add("BB", "BB");
    expect(found(prefixes, "BBx")).toEqual(["BB"]);
    expect(found(prefixes, "Aax")).toEqual(["Aa"]);
    const suffixes = new AffixTable<string>(true);
    suffixes.add("aA", "aA");
    suffixes.add("BB", "BB");
    expect(found(suffixes, "xBB")).toEqual(["BB"]);
    expect(found(suffixes, "xaA")).toEqual(["aA"]);
  });

  it("finds exactly the affixes a value starts or ends with", () => {
    const text = fc.string({ unit: fc.constantFrom("a", "b", "é", "😀"), maxLength: 6 });
    fc.assert(
      fc.property(fc.array(text, { maxLength: 12 }), text, fc.boolean(), (affixes, value, end) => {
        const table = new AffixTable<string>(end);
        for (const affix of affixes) table.add(affix, affix);
        const expected = affixes
          .filter((affix) => (end ? value.endsWith(affix) : value.startsWith(affix)))
          .sort();
        expect(found(table, value)).toEqual(expected);
      }),
      { numRuns: 2000 },
    );
  });
});
