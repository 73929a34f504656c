import { escapeXml } from "./aws/xml.js";
import type { ServerLink } from "./server-module.js";

/** The links every server has, whichever primitives it serves. */
export const CORE_LINKS: readonly ServerLink[] = [
  { path: "/openapi.json", description: "REST API description (OpenAPI 3.1)" },
  { path: "/metrics", description: "Prometheus metrics" },
  { path: "/metrics/stream", description: "live metrics feed (server-sent events, JSON)" },
  { path: "/healthz", description: "liveness" },
  { path: "/readyz", description: "readiness" },
];

/** The small page at `/` listing what this server serves. */
export function indexPage(
  publicUrl: string,
  links: readonly ServerLink[],
  awsApis: readonly string[],
): string {
  const items = links
    .map(
      (l) =>
        `<li><a href="${escapeXml(l.path.includes("{") ? "#" : l.path)}"><code>${escapeXml(publicUrl + l.path)}</code></a> ${escapeXml(l.description)}</li>`,
    )
    .join("\n");
  const aws = awsApis
    .map((a) => `<li>${escapeXml(a)}: endpoint <code>${escapeXml(publicUrl)}</code></li>`)
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sluice</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}code{background:#f3f3f3;padding:0 .2em}</style>
</head><body>
<h1>Sluice</h1>
<p>Durable queues, logs and events, served over HTTP.</p>
<h2>Endpoints</h2>
<ul>
${items}
</ul>
<h2>AWS-compatible APIs</h2>
<ul>
${aws}
</ul>
</body></html>
`;
}

/** The startup banner: one line per URL. */
export function banner(
  publicUrl: string,
  links: readonly ServerLink[],
  awsApis: readonly string[],
): string {
  const lines = [`Sluice listening on ${publicUrl}`];
  for (const l of links) lines.push(`  ${(publicUrl + l.path).padEnd(48)} ${l.description}`);
  for (const a of awsApis) lines.push(`  ${publicUrl.padEnd(48)} ${a}`);
  return lines.join("\n") + "\n";
}
