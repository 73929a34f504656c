// Regenerates the schema tables in this folder from Kafka's message schemas (the JSON files under
// clients/src/main/resources/common/message/ of an Apache Kafka checkout):
//   npx tsx src/server/kafka/protocol/schemas/transcribe.ts <that directory>
// Only what the codec needs is kept (names, types, version ranges, tags, defaults); descriptions
// and comments are left behind. The output is data under the Apache License 2.0: see NOTICE.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FieldSchema, MessageSchema } from "../schema.js";

/** The APIs the listener knows, by Kafka's name. */
const API_NAMES = [
  "Produce",
  "Fetch",
  "ListOffsets",
  "Metadata",
  "OffsetCommit",
  "OffsetFetch",
  "FindCoordinator",
  "JoinGroup",
  "Heartbeat",
  "LeaveGroup",
  "SyncGroup",
  "DescribeGroups",
  "ListGroups",
  "SaslHandshake",
  "ApiVersions",
  "CreateTopics",
  "DeleteTopics",
  "InitProducerId",
  "AddPartitionsToTxn",
  "AddOffsetsToTxn",
  "EndTxn",
  "TxnOffsetCommit",
  "DescribeConfigs",
  "SaslAuthenticate",
  "CreatePartitions",
  "DeleteGroups",
  "AlterConfigs",
  "IncrementalAlterConfigs",
  "DeleteRecords",
];

interface KafkaField {
  name: string;
  type: string;
  versions: string;
  nullableVersions?: string;
  taggedVersions?: string;
  tag?: number;
  flexibleVersions?: string;
  default?: string | number | boolean;
  fields?: KafkaField[];
}

interface KafkaMessage {
  apiKey?: number;
  name: string;
  validVersions: string;
  flexibleVersions: string;
  fields: KafkaField[];
  commonStructs?: { name: string; versions: string; fields: KafkaField[] }[];
}

function readMessage(dir: string, file: string): KafkaMessage {
  const text = readFileSync(join(dir, file), "utf8")
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("//"))
    .join("\n");
  return JSON.parse(text) as KafkaMessage;
}

const camel = (name: string): string => name.charAt(0).toLowerCase() + name.slice(1);

function convertFields(fields: KafkaField[], message: KafkaMessage): FieldSchema[] {
  return fields.map((field) => {
    const structName = field.type.startsWith("[]") ? field.type.slice(2) : field.type;
    const common = message.commonStructs?.find((s) => s.name === structName);
    const nested = field.fields ?? common?.fields;
    const out: Record<string, unknown> = { name: camel(field.name), type: field.type };
    out.versions = field.versions;
    if (field.nullableVersions !== undefined) out.nullableVersions = field.nullableVersions;
    if (field.taggedVersions !== undefined) out.taggedVersions = field.taggedVersions;
    if (field.tag !== undefined) out.tag = field.tag;
    if (field.flexibleVersions !== undefined) out.flexibleVersions = field.flexibleVersions;
    if (field.default !== undefined) out.default = String(field.default);
    if (nested !== undefined) out.fields = convertFields(nested, message);
    return out as unknown as FieldSchema;
  });
}

function convertMessage(message: KafkaMessage): MessageSchema {
  return {
    validVersions: message.validVersions,
    flexibleVersions: message.flexibleVersions,
    fields: convertFields(message.fields, message),
  };
}

const PRIMITIVE_TS: Record<string, string> = {
  bool: "boolean",
  int8: "number",
  int16: "number",
  uint16: "number",
  int32: "number",
  uint32: "number",
  int64: "number",
  float64: "number",
  string: "string",
  bytes: "Buffer",
  records: "Buffer",
  uuid: "Buffer",
};

function tsType(field: FieldSchema, optional: boolean, indent: string): string {
  const element = field.type.startsWith("[]") ? field.type.slice(2) : field.type;
  let base =
    field.fields !== undefined
      ? structType(field.fields, optional, indent)
      : (PRIMITIVE_TS[element] ?? "unknown");
  if (field.type.startsWith("[]"))
    base = field.fields === undefined ? `${base}[]` : `Array<${base}>`;
  const nullable = field.nullableVersions !== undefined || field.type === "records";
  return nullable ? `${base} | null` : base;
}

function structType(fields: readonly FieldSchema[], optional: boolean, indent: string): string {
  const inner = indent + "  ";
  const lines = fields.map(
    (f) => `${inner}${f.name}${optional ? "?" : ""}: ${tsType(f, optional, inner)};`,
  );
  return `{\n${lines.join("\n")}\n${indent}}`;
}

function renderApi(dir: string, name: string): { file: string; constName: string } {
  const request = readMessage(dir, `${name}Request.json`);
  const response = readMessage(dir, `${name}Response.json`);
  const constName = camel(name);
  const schema = {
    apiKey: request.apiKey,
    name,
    request: convertMessage(request),
    response: convertMessage(response),
  };
  const text = [
    `// Transcribed from Apache Kafka's ${name}Request.json and ${name}Response.json`,
    "// (Apache License 2.0, see NOTICE in this folder) by transcribe.ts. Do not edit by hand.",
    'import type { ApiSchema } from "../schema.js";',
    "",
    `/** Kafka's ${name} API (key ${request.apiKey}). */`,
    `export const ${constName}: ApiSchema = ${JSON.stringify(schema)};`,
    "",
    `/** A decoded ${name} request: every field of every version, defaults where absent. */`,
    `export interface ${name}Request ${structType(schema.request.fields, false, "")}`,
    "",
    `/** A ${name} response to encode: fields left out take their schema defaults. */`,
    `export interface ${name}Response ${structType(schema.response.fields, true, "")}`,
    "",
  ].join("\n");
  const file = name.replace(/([a-z])([A-Z])/g, "$1-$2").toLowerCase();
  writeFileSync(join(HERE, `${file}.ts`), text);
  return { file, constName };
}

function renderHeaders(dir: string): void {
  const request = convertMessage(readMessage(dir, "RequestHeader.json"));
  const response = convertMessage(readMessage(dir, "ResponseHeader.json"));
  const text = [
    "// Transcribed from Apache Kafka's RequestHeader.json and ResponseHeader.json",
    "// (Apache License 2.0, see NOTICE in this folder) by transcribe.ts. Do not edit by hand.",
    'import type { MessageSchema } from "../schema.js";',
    "",
    "/** The request header: v1 for rigid requests, v2 (flexible) for flexible ones. */",
    `export const requestHeader: MessageSchema = ${JSON.stringify(request)};`,
    "",
    "/** The response header: v0 for rigid responses (and every ApiVersions response), v1 for flexible ones. */",
    `export const responseHeader: MessageSchema = ${JSON.stringify(response)};`,
    "",
  ].join("\n");
  writeFileSync(join(HERE, "headers.ts"), text);
}

const HERE = fileURLToPath(new URL(".", import.meta.url));
const source = process.argv[2];
if (source === undefined) throw new Error("usage: transcribe.ts <kafka message schema directory>");
renderHeaders(source);
const rendered = API_NAMES.map((name) => renderApi(source, name));
const index = [
  "// The transcribed API schemas, one per Kafka API (Apache License 2.0, see NOTICE).",
  'import type { ApiSchema } from "../schema.js";',
  ...rendered.map((r) => `import { ${r.constName} } from "./${r.file}.js";`),
  "",
  ...rendered.map((r) => `export * from "./${r.file}.js";`),
  'export * from "./headers.js";',
  "",
  "/** Every transcribed API schema. */",
  `export const API_SCHEMAS: readonly ApiSchema[] = [${rendered.map((r) => r.constName).join(", ")}];`,
  "",
].join("\n");
writeFileSync(join(HERE, "index.ts"), index);
