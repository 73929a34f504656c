import { Ajv, type Options } from "ajv";
import addFormats from "ajv-formats";
import type { FastifyInstance } from "fastify";

function ajv(options: Options): Ajv {
  // verbose: each error carries the schema that failed and the value, so that a 400 can say
  // what the field accepts (see schema-violation.ts).
  const instance = new Ajv({ allErrors: false, strict: false, verbose: true, ...options });
  addFormats.default(instance);
  return instance;
}

/**
 * Request bodies are JSON with real types: they are checked as sent (no coercion of 5 into "5",
 * no silent dropping of unknown fields), so a wrong type is a 400 naming the field. Path and
 * query parameters arrive as text and are coerced to the schema's types.
 */
export function installSchemaValidation(app: FastifyInstance): void {
  const bodies = ajv({ coerceTypes: false, removeAdditional: false, useDefaults: true });
  const parameters = ajv({ coerceTypes: "array", removeAdditional: false, useDefaults: true });
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === "body" ? bodies : parameters).compile(schema),
  );
}
