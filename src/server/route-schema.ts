/** Route options whose schema validates the request and documents the route in /openapi.json. */
export interface DocumentedRoute {
  readonly schema: Record<string, unknown>;
}

/** A documented route: tags and a summary (required for /openapi.json) plus its JSON Schemas. */
export function documented(
  tags: readonly string[],
  summary: string,
  schemas: {
    readonly params?: object;
    readonly querystring?: object;
    readonly body?: object;
  } = {},
): DocumentedRoute {
  return { schema: { tags, summary, ...schemas } };
}
