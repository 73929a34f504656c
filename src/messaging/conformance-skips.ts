import { beforeAll, it as vitestIt } from "vitest";

type TestBody = () => Promise<void>;

/**
 * `it` for a conformance suite whose harness may list tests its backend cannot pass, by name,
 * with the reason: those are reported as skipped with it. Call `checkSkips` once every test is
 * declared, so a skip that names no test (a renamed test, a typo) fails instead of hiding.
 */
export function conformanceIt(skips: Readonly<Record<string, string>> = {}): {
  it: (name: string, body: TestBody) => void;
  checkSkips: () => void;
} {
  const declared = new Set<string>();
  return {
    it(name, body) {
      declared.add(name);
      const reason = skips[name];
      if (reason === undefined) vitestIt(name, body);
      else vitestIt.skip(`${name} [skipped: ${reason}]`, body);
    },
    checkSkips() {
      beforeAll(() => {
        const unknown = Object.keys(skips).filter((name) => !declared.has(name));
        if (unknown.length > 0) throw new Error(`skips name no test: ${unknown.join(", ")}`);
      });
    },
  };
}
