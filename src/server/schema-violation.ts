import { invalid } from "../errors/index.js";

/**
 * One error of a request's JSON Schema check, as Ajv reports it with `verbose` on (the schema
 * that failed and the value it failed on).
 */
export interface SchemaError {
  readonly keyword: string;
  readonly instancePath: string;
  readonly params: Record<string, unknown>;
  readonly message?: string | undefined;
  readonly parentSchema?: unknown;
  readonly data?: unknown;
}

/** What a request got wrong: the field, and one line saying what was expected there. */
export interface SchemaViolation {
  /** The request part and the path in it, e.g. `body.expectedVersion`, `querystring.direction`. */
  readonly field: string;
  /** e.g. `expectedVersion: expected one of "any", "no_stream" or an integer >= 0, got "x"`. */
  readonly message: string;
}

type Schema = Readonly<Record<string, unknown>>;

/**
 * The one violation to report of a request part's (`body`, `querystring`, `params`, `headers`)
 * schema errors. Validation stops at the first failing keyword; an anyOf or oneOf reports each
 * of its branches first and then itself, last: the last error is the one that failed, said as
 * the field and everything it accepts ("expected a string or null"), not branch by branch.
 */
export function schemaViolation(errors: readonly SchemaError[], part: string): SchemaViolation {
  const error = errors[errors.length - 1];
  if (error === undefined) return { field: part, message: `${part}: invalid` };
  if (error.keyword === "anyOf" || error.keyword === "oneOf") {
    // A branch took the value's shape and failed inside it (an object with a bad field): that
    // field is what is wrong, not the value as a whole.
    const inside = errors.findLastIndex(
      (e) =>
        e.instancePath.startsWith(`${error.instancePath}/`) ||
        (e.instancePath === error.instancePath &&
          (e.keyword === "required" || e.keyword === "additionalProperties")),
    );
    if (inside >= 0) return schemaViolation(errors.slice(0, inside + 1), part);
  }
  const path = error.instancePath
    .split("/")
    .slice(1)
    .map((segment) => segment.replaceAll("~1", "/").replaceAll("~0", "~"));
  const schema = isSchema(error.parentSchema) ? error.parentSchema : undefined;
  if (error.keyword === "required") {
    const name = String(error.params.missingProperty);
    const property = isSchema(schema?.properties) ? schema.properties[name] : undefined;
    const at = named(part, [...path, name]);
    const expected = isSchema(property) ? `, expected ${expectation(property)}` : "";
    return { field: at.field, message: `${at.name}: missing${expected}` };
  }
  if (error.keyword === "additionalProperties") {
    const at = named(part, [...path, String(error.params.additionalProperty)]);
    const known = isSchema(schema?.properties) ? Object.keys(schema.properties) : [];
    const allowed = known.length === 0 ? "" : ` (allowed: ${known.join(", ")})`;
    return { field: at.field, message: `${at.name}: unknown field${allowed}` };
  }
  const at = named(part, path);
  if (schema === undefined || !DESCRIBED.has(error.keyword))
    return { field: at.field, message: `${at.name}: ${error.message ?? "invalid"}` };
  return { field: at.field, message: invalid(at.name, expectation(schema), error.data).message };
}

/** The keywords whose failure `expectation` of the schema holding them says in full. */
const DESCRIBED = new Set([
  "anyOf",
  "oneOf",
  "type",
  "enum",
  "const",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "multipleOf",
  "minLength",
  "maxLength",
  "pattern",
  "format",
  "minItems",
  "maxItems",
]);

/** The field as the error body names it (`body.events.0.type`) and as its message does. */
function named(part: string, path: readonly string[]): { field: string; name: string } {
  return {
    field: [part, ...path].join("."),
    name: path.length === 0 ? part : path.join("."),
  };
}

function isSchema(value: unknown): value is Schema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** "a", "a or b", "a, b or c". */
function oneOf(items: readonly string[]): string {
  return items.length <= 1
    ? (items[0] ?? "")
    : `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}`;
}

/** What a schema accepts, in words: `an integer from 1 to 10`, `one of "a", "b"`. */
function expectation(schema: unknown): string {
  if (schema === true || (isSchema(schema) && Object.keys(schema).length === 0)) return "any value";
  if (!isSchema(schema)) return "nothing";
  const branches = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(branches)) return branches.map(expectation).join(" or ");
  if ("const" in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum))
    return schema.enum.length === 1
      ? JSON.stringify(schema.enum[0])
      : `one of ${schema.enum.map((v) => JSON.stringify(v)).join(", ")}`;
  const types: unknown[] = Array.isArray(schema.type) ? schema.type : [schema.type];
  const described = types
    .filter((type): type is string => typeof type === "string")
    .map((type) => typed(type, schema));
  return described.length === 0 ? "a value matching the schema" : oneOf(described);
}

function typed(type: string, schema: Schema): string {
  switch (type) {
    case "integer":
    case "number":
      return `${type === "integer" ? "an integer" : "a number"}${bounds(schema)}`;
    case "string":
      return `a${schema.minLength === 1 && schema.maxLength === undefined ? " non-empty" : ""} ${
        typeof schema.format === "string" ? `${schema.format} ` : ""
      }string${lengths(schema, "minLength", "maxLength", "character")}${
        typeof schema.pattern === "string" ? ` matching /${schema.pattern}/` : ""
      }`;
    case "array":
      return `an array${lengths(schema, "minItems", "maxItems", "item")}`;
    case "object":
      return "an object";
    case "boolean":
      return "true or false";
    case "null":
      return "null";
    default:
      return type;
  }
}

/** " >= 0", " from 1 to 10", " < 5", "" (none). */
function bounds(schema: Schema): string {
  const low = typeof schema.minimum === "number" ? schema.minimum : undefined;
  const high = typeof schema.maximum === "number" ? schema.maximum : undefined;
  const parts: string[] = [];
  if (low !== undefined && high !== undefined) parts.push(` from ${low} to ${high}`);
  else if (low !== undefined) parts.push(` >= ${low}`);
  else if (high !== undefined) parts.push(` <= ${high}`);
  if (typeof schema.exclusiveMinimum === "number") parts.push(` > ${schema.exclusiveMinimum}`);
  if (typeof schema.exclusiveMaximum === "number") parts.push(` < ${schema.exclusiveMaximum}`);
  if (typeof schema.multipleOf === "number") parts.push(` (a multiple of ${schema.multipleOf})`);
  return parts.join(" and");
}

/** " of 1 to 10 items", " of at least 1 item", "" (none); a non-empty string says so itself. */
function lengths(schema: Schema, min: string, max: string, unit: string): string {
  const low = typeof schema[min] === "number" ? schema[min] : undefined;
  const high = typeof schema[max] === "number" ? schema[max] : undefined;
  const of = (n: number): string => `${n} ${unit}${n === 1 ? "" : "s"}`;
  if (low !== undefined && high !== undefined)
    return low === high ? ` of ${of(low)}` : ` of ${low} to ${of(high)}`;
  if (low !== undefined && !(unit === "character" && low === 1)) return ` of at least ${of(low)}`;
  if (high !== undefined) return ` of at most ${of(high)}`;
  return "";
}
