import { invalidField } from "./bus-error.js";
import type { BusEvent, InputTransformer, Target } from "./event-bus-service.js";
import { type JsonPath, parseJsonPath, valueAtPath } from "./json-path.js";

/** EventBridge's limits on transformers. */
export const MAX_INPUT_PATHS = 100;
export const MAX_INPUT_CHARS = 8192;
const VARIABLE = /^[A-Za-z0-9_-]{1,256}$/;
const PREDEFINED = new Set([
  "aws.events.rule-arn",
  "aws.events.rule-name",
  "aws.events.event.ingestion-time",
  "aws.events.event",
  "aws.events.event.json",
]);

/** What a target sends: the event, a constant, a part, or a template filled from the event. */
export type TargetInput =
  | { readonly kind: "event" }
  | { readonly kind: "constant"; readonly value: unknown }
  | { readonly kind: "path"; readonly path: JsonPath }
  | {
      readonly kind: "template";
      readonly paths: ReadonlyMap<string, JsonPath>;
      readonly template: string;
    };

/** Facts about the rule and the event that predefined variables name. */
export interface TransformContext {
  readonly ruleArn: string;
  readonly ruleName: string;
  readonly ingestionTime: string;
}

/** Validates a target's Input / InputPath / InputTransformer (at most one); names the field at fault. */
export function compileTargetInput(target: Target, field: string): TargetInput {
  const given = [target.Input, target.InputPath, target.InputTransformer].filter(
    (x) => x !== undefined,
  );
  if (given.length > 1)
    throw invalidField(field, "only one of Input, InputPath and InputTransformer may be set");
  if (target.Input !== undefined) {
    if (typeof target.Input !== "string" || target.Input.length > MAX_INPUT_CHARS)
      throw invalidField(`${field}.Input`, `JSON text of at most ${MAX_INPUT_CHARS} characters`);
    try {
      return { kind: "constant", value: JSON.parse(target.Input) as unknown };
    } catch {
      throw invalidField(`${field}.Input`, "must be valid JSON");
    }
  }
  if (target.InputPath !== undefined)
    return { kind: "path", path: parseJsonPath(target.InputPath, `${field}.InputPath`) };
  if (target.InputTransformer !== undefined)
    return compileTransformer(target.InputTransformer, `${field}.InputTransformer`);
  return { kind: "event" };
}

function compileTransformer(transformer: InputTransformer, field: string): TargetInput {
  const template = transformer?.InputTemplate;
  if (typeof template !== "string" || template.length === 0 || template.length > MAX_INPUT_CHARS)
    throw invalidField(`${field}.InputTemplate`, `1-${MAX_INPUT_CHARS} characters`);
  const entries = Object.entries(transformer.InputPathsMap ?? {});
  if (entries.length > MAX_INPUT_PATHS)
    throw invalidField(
      `${field}.InputPathsMap`,
      `at most ${MAX_INPUT_PATHS} variables, got ${entries.length}`,
    );
  const paths = new Map<string, JsonPath>();
  for (const [name, path] of entries) {
    if (!VARIABLE.test(name) || name.startsWith("aws."))
      throw invalidField(
        `${field}.InputPathsMap.${name}`,
        "a variable name of A-Z a-z 0-9 _ - not starting with aws.",
      );
    paths.set(name, parseJsonPath(path, `${field}.InputPathsMap.${name}`));
  }
  for (const match of template.matchAll(/<([^<>\s]+)>/g)) {
    const name = match[1]!;
    if (!paths.has(name) && !PREDEFINED.has(name))
      throw invalidField(
        `${field}.InputTemplate`,
        `uses <${name}>, which InputPathsMap does not define`,
      );
  }
  return { kind: "template", paths, template };
}

/** Applies a compiled target input to an event; returns what the target gets. */
export function transformInput(
  input: TargetInput,
  event: BusEvent,
  context: TransformContext,
): unknown {
  switch (input.kind) {
    case "event":
      return event;
    case "constant":
      return input.value;
    case "path":
      return valueAtPath(event, input.path);
    case "template":
      return fillTemplate(input, event, context);
  }
}

/**
 * Fills `<variable>`s. In a JSON template a variable inside a string literal is inserted as
 * text (escaped), elsewhere as a JSON value; in a text template values go in as text. The
 * result of a JSON template is parsed; a text template's result is a string.
 */
function fillTemplate(
  input: Extract<TargetInput, { kind: "template" }>,
  event: BusEvent,
  context: TransformContext,
): unknown {
  const valueOf = (name: string): unknown => {
    switch (name) {
      case "aws.events.rule-arn":
        return context.ruleArn;
      case "aws.events.rule-name":
        return context.ruleName;
      case "aws.events.event.ingestion-time":
        return context.ingestionTime;
      case "aws.events.event":
      case "aws.events.event.json":
        return event;
      default:
        return valueAtPath(event, input.paths.get(name) ?? []);
    }
  };
  const template = input.template;
  const json = /^\s*[{[]/.test(template);
  let out = "";
  let inString = false;
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if (c === "<") {
      const end = template.indexOf(">", i);
      const name = end < 0 ? "" : template.slice(i + 1, end);
      if (end > 0 && /^[^<>\s]+$/.test(name) && (input.paths.has(name) || PREDEFINED.has(name))) {
        const value = valueOf(name);
        if (!json) out += typeof value === "string" ? value : (JSON.stringify(value) ?? "");
        else if (inString) {
          const text = typeof value === "string" ? value : (JSON.stringify(value) ?? "");
          out += JSON.stringify(text).slice(1, -1);
        } else out += JSON.stringify(value) ?? "null";
        i = end;
        continue;
      }
    }
    if (json && c === '"') inString = !inString;
    else if (json && c === "\\" && inString) {
      out += c + (template[i + 1] ?? "");
      i++;
      continue;
    }
    out += c;
  }
  if (!json) return out;
  try {
    return JSON.parse(out) as unknown;
  } catch {
    return out;
  }
}
