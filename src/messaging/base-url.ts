/**
 * Where a service says it lives: a URL, or a function that gives it when asked, for a server
 * whose port is picked when it starts listening, after its services have opened.
 */
export type BaseUrl = string | (() => string);

/** The URL `base` gives now, without trailing slashes. */
export function resolveBaseUrl(base: BaseUrl): string {
  const url = typeof base === "string" ? base : base();
  return url.endsWith("/") ? url.replace(/\/+$/, "") : url;
}
