import type { FastifyInstance, RouteOptions } from "fastify";

interface RouteDoc {
  readonly method: string;
  readonly url: string;
  readonly schema: Record<string, unknown>;
}

/** Collects the schema of every route as it is added, to describe them at `/openapi.json`. */
export class OpenApiCollector {
  private readonly routes: RouteDoc[] = [];

  /** Must run before routes are added. */
  watch(app: FastifyInstance): void {
    app.addHook("onRoute", (route: RouteOptions) => {
      const schema = (route.schema ?? {}) as Record<string, unknown>;
      // Routes without a summary (AWS protocol endpoints, health checks) are not REST resources.
      if (schema.summary === undefined) return;
      for (const method of [route.method].flat())
        if (method !== "HEAD")
          this.routes.push({ method: method.toLowerCase(), url: route.url, schema });
    });
  }

  /** An OpenAPI 3.1 document of the routes seen. */
  document(serverUrl: string, version: string): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const { method, url, schema } of this.routes) {
      const path = url.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
      const parameters = [
        ...parametersOf(schema.params, "path"),
        ...parametersOf(schema.querystring, "query"),
      ];
      (paths[path] ??= {})[method] = {
        ...(schema.summary === undefined ? {} : { summary: schema.summary }),
        ...(schema.tags === undefined ? {} : { tags: schema.tags }),
        ...(parameters.length === 0 ? {} : { parameters }),
        ...(schema.body === undefined
          ? {}
          : {
              requestBody: {
                required: true,
                content: { "application/json": { schema: schema.body } },
              },
            }),
        responses: {
          "200": { description: "success (201 for a created resource, 204 when there is no body)" },
          "4XX": {
            description: "bad input or missing resource",
            content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
          },
        },
      };
    }
    return {
      openapi: "3.1.0",
      info: {
        title: "Sluice",
        version,
        description:
          "Sluice's REST API. The SQS-compatible API (AWS JSON 1.0 and query protocol) is served at POST / for AWS SDKs.",
      },
      servers: [{ url: serverUrl }],
      paths,
      components: {
        schemas: {
          Error: {
            type: "object",
            properties: {
              error: {
                type: "object",
                required: ["code", "name", "message"],
                properties: {
                  code: { type: "string" },
                  name: { type: "string" },
                  message: { type: "string" },
                  field: { type: "string" },
                },
              },
            },
          },
        },
      },
    };
  }
}

function parametersOf(schema: unknown, where: "path" | "query"): unknown[] {
  const s = schema as { properties?: Record<string, unknown>; required?: string[] } | undefined;
  return Object.entries(s?.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === "path" || (s?.required ?? []).includes(name),
    schema: property,
  }));
}
