import { describeValue } from "../../errors/index.js";
import { invalidField } from "./bus-error.js";

/** A compiled JSONPath of EventBridge's subset: `$`, `.name`, `['name']`, `[index]`. */
export type JsonPath = readonly (string | number)[];

/** Parses a JSONPath; throws ValidationException naming `field`. */
export function parseJsonPath(text: unknown, field: string): JsonPath {
  if (typeof text !== "string" || !text.startsWith("$"))
    throw invalidField(field, `a JSONPath starting with $, got ${describeValue(text)}`);
  const steps: (string | number)[] = [];
  let i = 1;
  while (i < text.length) {
    if (text[i] === ".") {
      const match = /^[^.[\]]+/.exec(text.slice(i + 1));
      if (match === null)
        throw invalidField(field, `invalid JSONPath ${text}: empty name at position ${i + 1}`);
      steps.push(match[0]);
      i += 1 + match[0].length;
    } else if (text[i] === "[") {
      const quoted = /^\[(?:'([^']*)'|"([^"]*)")\]/.exec(text.slice(i));
      const index = /^\[(\d+)\]/.exec(text.slice(i));
      if (quoted !== null) {
        steps.push(quoted[1] ?? quoted[2] ?? "");
        i += quoted[0].length;
      } else if (index !== null) {
        steps.push(Number(index[1]));
        i += index[0].length;
      } else throw invalidField(field, `invalid JSONPath ${text}: bad bracket at position ${i}`);
    } else
      throw invalidField(
        field,
        `invalid JSONPath ${text}: unexpected ${JSON.stringify(text[i])} at position ${i}`,
      );
  }
  return steps;
}

/** The value at `path` in `value`, or undefined. */
export function valueAtPath(value: unknown, path: JsonPath): unknown {
  let node = value;
  for (const step of path) {
    if (node === null || typeof node !== "object") return undefined;
    if (typeof step === "number") {
      if (!Array.isArray(node)) return undefined;
      node = node[step];
    } else {
      if (!Object.hasOwn(node, step)) return undefined;
      node = (node as Record<string, unknown>)[step];
    }
  }
  return node;
}
