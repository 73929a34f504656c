import { describeValue } from "../../../errors/index.js";
import { parseCidr } from "./ip-address.js";
import type { FieldCondition, LeafMatcher, NumericBound, Pattern, Scalar } from "./pattern.js";
import { disjunctsOf } from "./pattern.js";
import { PatternError, type PatternLanguage } from "./pattern-error.js";

/** What one pattern language allows: its operators, numeric range, nesting and size limits. */
export interface PatternDialect {
  readonly language: PatternLanguage;
  readonly operators: ReadonlySet<string>;
  /** Forms `anything-but` may take besides a value or a list of values. */
  readonly anythingButOperators: ReadonlySet<string>;
  /** Whether `prefix` and `suffix` accept `{ "equals-ignore-case": ... }`. */
  readonly caseInsensitiveAffixes: boolean;
  readonly numericMin: number;
  readonly numericMax: number;
  readonly nested: boolean;
  readonly maxChars: number;
  /** Most `$or` alternatives after multiplying out (EventBridge's rule complexity). */
  readonly maxAlternatives: number;
  /** Whether an empty pattern `{}` is allowed (it matches everything). */
  readonly allowEmpty: boolean;
}

type Json = Scalar | readonly Json[] | { readonly [key: string]: Json };

const ANYTHING_BUT = "anything-but";

/** Parses a pattern (JSON text or an already parsed value) in `dialect`; throws PatternError. */
export function parsePattern(input: unknown, dialect: PatternDialect): Pattern {
  const fail = (path: string, reason: string, operator?: string): never => {
    throw new PatternError(dialect.language, path, reason, operator);
  };
  let value: unknown = input;
  if (typeof input === "string") {
    if (input.length > dialect.maxChars)
      fail("", `pattern is ${input.length} characters, the limit is ${dialect.maxChars}`);
    try {
      value = JSON.parse(input);
    } catch (error) {
      fail("", `not valid JSON (${(error as Error).message})`);
    }
  } else {
    let text: string | undefined;
    try {
      text = JSON.stringify(input);
    } catch {
      fail("", "the pattern must be JSON text or a JSON value");
    }
    if (text !== undefined && text.length > dialect.maxChars)
      fail("", `pattern is ${text.length} characters, the limit is ${dialect.maxChars}`);
  }
  if (!isObject(value)) return fail("", "the pattern must be a JSON object");
  if (Object.keys(value).length === 0 && !dialect.allowEmpty)
    fail("", "empty objects are not allowed");
  const pattern = new Parser(dialect, fail).object(value, [], 0);
  if (disjunctsOf(pattern, dialect.maxAlternatives) === undefined)
    fail(
      "",
      `the pattern is too complex: its $or alternatives multiply out to more than ${dialect.maxAlternatives}`,
    );
  return pattern;
}

function isObject(value: unknown): value is { readonly [key: string]: Json } {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function isScalar(value: unknown): value is Scalar {
  return (
    value === null ||
    typeof value === "string" ||
    typeof value === "boolean" ||
    (typeof value === "number" && Number.isFinite(value))
  );
}

const show = (path: readonly string[]): string => path.join(".");

class Parser {
  constructor(
    private readonly dialect: PatternDialect,
    private readonly fail: (path: string, reason: string, operator?: string) => never,
  ) {}

  object(node: { readonly [key: string]: Json }, path: readonly string[], depth: number): Pattern {
    const conditions: FieldCondition[] = [];
    const anyOf: (readonly Pattern[])[] = [];
    for (const [key, child] of Object.entries(node)) {
      if (key === "$or") {
        anyOf.push(this.or(child, path, depth));
        continue;
      }
      const childPath = [...path, key];
      if (Array.isArray(child)) {
        conditions.push({ path: childPath, matchers: this.leafList(child, childPath) });
      } else if (isObject(child)) {
        if (!this.dialect.nested)
          this.fail(
            show(childPath),
            "nested objects are not allowed in a filter policy on message attributes",
          );
        if (Object.keys(child).length === 0)
          this.fail(show(childPath), "empty objects are not allowed");
        const inner = this.object(child, childPath, depth + 1);
        conditions.push(...inner.conditions);
        anyOf.push(...inner.anyOf);
      } else {
        this.fail(
          show(childPath),
          `match value must be an array or an object, got ${describeValue(child)}`,
        );
      }
    }
    return { conditions, anyOf };
  }

  private or(value: Json, path: readonly string[], depth: number): Pattern[] {
    const at = show([...path, "$or"]);
    if (!Array.isArray(value) || value.length < 2)
      this.fail(at, "$or must be an array of at least 2 objects", "$or");
    return (value as readonly Json[]).map((alternative, i) => {
      if (!isObject(alternative) || Object.keys(alternative).length === 0)
        this.fail(`${at}[${i}]`, "each $or alternative must be a non-empty object", "$or");
      return this.object(alternative, path, depth);
    });
  }

  private leafList(values: readonly Json[], path: readonly string[]): LeafMatcher[] {
    if (values.length === 0) this.fail(show(path), "empty arrays are not allowed");
    return values.map((value, i) => this.leaf(value, `${show(path)}[${i}]`));
  }

  private leaf(value: Json, at: string): LeafMatcher {
    if (isScalar(value)) {
      if (typeof value === "number") this.checkNumber(value, at, "exact");
      return { kind: "exact", value };
    }
    if (Array.isArray(value)) return this.fail(at, "arrays are not allowed inside a match list");
    if (!isObject(value))
      return this.fail(at, `match value ${JSON.stringify(value)} is not allowed`);
    const keys = Object.keys(value);
    if (keys.length !== 1)
      this.fail(
        at,
        `an operator object must have exactly one key, got ${keys.length === 0 ? "none" : keys.join(", ")}`,
      );
    const operator = keys[0]!;
    const argument = value[operator]!;
    if (!this.dialect.operators.has(operator))
      this.fail(
        at,
        `unrecognized match type ${operator} (expected one of ${[...this.dialect.operators].join(", ")})`,
        operator,
      );
    const where = `${at}.${operator}`;
    switch (operator) {
      case "prefix":
      case "suffix":
        return this.affix(operator, argument, where);
      case "equals-ignore-case":
        return {
          kind: "equals-ignore-case",
          value: this.string(argument, where, operator).toLowerCase(),
        };
      case "wildcard": {
        const text = this.string(argument, where, operator);
        return { kind: "wildcard", value: text, regex: this.wildcard(text, where) };
      }
      case ANYTHING_BUT:
        return this.anythingBut(argument, where);
      case "numeric":
        return this.numeric(argument, where);
      case "cidr": {
        const text = this.string(argument, where, operator);
        const network = parseCidr(text);
        if (network === undefined)
          this.fail(where, `${JSON.stringify(text)} is not an IP address block`, operator);
        return { kind: "cidr", value: text, network: network };
      }
      case "exists":
        if (typeof argument !== "boolean")
          this.fail(where, "exists match pattern must be either true or false", operator);
        return { kind: "exists", value: argument };
      default:
        return this.fail(at, `unrecognized match type ${operator}`, operator);
    }
  }

  private affix(operator: "prefix" | "suffix", argument: Json, where: string): LeafMatcher {
    if (isObject(argument) && this.dialect.caseInsensitiveAffixes) {
      const keys = Object.keys(argument);
      if (keys.length !== 1 || keys[0] !== "equals-ignore-case")
        this.fail(
          where,
          `${operator} takes a string or { "equals-ignore-case": string }`,
          operator,
        );
      const text = this.string(
        argument["equals-ignore-case"]!,
        `${where}.equals-ignore-case`,
        operator,
      );
      return { kind: operator, value: text.toLowerCase(), ignoreCase: true };
    }
    return { kind: operator, value: this.string(argument, where, operator), ignoreCase: false };
  }

  private anythingBut(argument: Json, where: string): LeafMatcher {
    const operator = ANYTHING_BUT;
    if (typeof argument === "string" || typeof argument === "number") {
      if (typeof argument === "number") this.checkNumber(argument, where, operator);
      return { kind: "anything-but", values: [argument] };
    }
    if (Array.isArray(argument)) {
      if (argument.length === 0) this.fail(where, "empty arrays are not allowed", operator);
      argument.forEach((v, i) => {
        if (typeof v !== "string" && (typeof v !== "number" || !Number.isFinite(v)))
          this.fail(
            `${where}[${i}]`,
            "inside anything-but list, start|null|boolean is not supported",
            operator,
          );
      });
      return { kind: "anything-but", values: argument as Scalar[] };
    }
    if (!isObject(argument))
      return this.fail(
        where,
        "anything-but takes a string, a number, a list of them, or an operator object",
        operator,
      );
    const keys = Object.keys(argument);
    const inner = keys[0];
    if (keys.length !== 1 || inner === undefined || !this.dialect.anythingButOperators.has(inner))
      this.fail(
        where,
        `unsupported anything-but pattern: ${keys.join(", ") || "{}"} (expected one of ${[...this.dialect.anythingButOperators].join(", ")})`,
        operator,
      );
    const value = argument[inner]!;
    const at = `${where}.${inner}`;
    switch (inner) {
      case "prefix":
      case "suffix": {
        const text = this.string(value, at, operator);
        if (text === "")
          this.fail(at, `empty ${inner} is not allowed inside anything-but`, operator);
        return {
          kind: inner === "prefix" ? "anything-but-prefix" : "anything-but-suffix",
          value: text,
        };
      }
      case "wildcard": {
        const values = this.stringOrList(value, at, operator);
        return {
          kind: "anything-but-wildcard",
          values,
          regexes: values.map((text) => this.wildcard(text, at)),
        };
      }
      default:
        return {
          kind: "anything-but-ignore-case",
          values: this.stringOrList(value, at, operator).map((text) => text.toLowerCase()),
        };
    }
  }

  private numeric(argument: Json, where: string): LeafMatcher {
    const operator = "numeric";
    if (!Array.isArray(argument) || argument.length === 0)
      return this.fail(where, 'numeric takes a list such as [">", 0, "<=", 5]', operator);
    const list = argument as readonly Json[];
    if (list.length !== 2 && list.length !== 4)
      this.fail(where, "numeric takes one comparison or a range of two", operator);
    let lower: NumericBound | undefined;
    let upper: NumericBound | undefined;
    for (let i = 0; i < list.length; i += 2) {
      const op = list[i];
      const n = list[i + 1];
      if (typeof n !== "number")
        this.fail(`${where}[${i + 1}]`, `value of ${JSON.stringify(op)} must be numeric`, operator);
      this.checkNumber(n, `${where}[${i + 1}]`, operator);
      const bound = (inclusive: boolean): NumericBound => ({ value: n, inclusive });
      if (op === "=" && list.length === 2) {
        lower = bound(true);
        upper = bound(true);
      } else if ((op === ">" || op === ">=") && lower === undefined && upper === undefined) {
        lower = bound(op === ">=");
      } else if (
        (op === "<" || op === "<=") &&
        upper === undefined &&
        (i === 0 || lower !== undefined)
      ) {
        upper = bound(op === "<=");
      } else {
        this.fail(
          `${where}[${i}]`,
          `bad numeric range operator ${JSON.stringify(op)} (expected =, <, <=, >, >=; a range is a lower bound then an upper bound)`,
          operator,
        );
      }
    }
    if (lower !== undefined && upper !== undefined && lower.value > upper.value)
      this.fail(where, "bottom must be less than top", operator);
    if (
      lower !== undefined &&
      upper !== undefined &&
      lower.value === upper.value &&
      !(lower.inclusive && upper.inclusive)
    )
      this.fail(where, "bottom must be less than top", operator);
    return { kind: "numeric", lower, upper };
  }

  private checkNumber(n: number, where: string, operator: string): void {
    const { numericMin, numericMax } = this.dialect;
    if (n < numericMin || n > numericMax)
      this.fail(where, `value ${n} is out of range [${numericMin}, ${numericMax}]`, operator);
  }

  private string(value: Json, where: string, operator: string): string {
    if (typeof value !== "string")
      this.fail(where, `${operator} match pattern must be a string`, operator);
    return value;
  }

  private stringOrList(value: Json, where: string, operator: string): string[] {
    if (typeof value === "string") return [value];
    if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "string"))
      return value;
    return this.fail(where, "expected a string or a non-empty list of strings", operator);
  }

  /** `*` matches any run of characters; `\*` and `\\` are a literal star and backslash. */
  private wildcard(text: string, where: string): RegExp {
    let source = "";
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (c === "\\") {
        const next = text[i + 1];
        if (next !== "*" && next !== "\\")
          this.fail(
            where,
            `invalid escape at position ${i}: only \\* and \\\\ are allowed`,
            "wildcard",
          );
        source += next === "*" ? "\\*" : "\\\\";
        i++;
      } else if (c === "*") {
        if (text[i + 1] === "*")
          this.fail(where, `consecutive wildcard characters at position ${i}`, "wildcard");
        source += "[\\s\\S]*";
      } else source += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    }
    return new RegExp(`^${source}$`);
  }
}
