import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));

/**
 * The modules `sluice` loads before it runs an action: main.ts's static import graph (what
 * esbuild bundles from it with every dynamic import left out), as paths under src/ and
 * package names.
 */
async function staticImports(): Promise<{ sources: string[]; packages: string[] }> {
  const { metafile } = await build({
    entryPoints: [MAIN],
    bundle: true,
    write: false,
    metafile: true,
    platform: "node",
    format: "esm",
    packages: "external",
    outdir: "unused",
    logLevel: "silent",
    plugins: [
      {
        name: "static-only",
        setup: (build) =>
          build.onResolve({ filter: /.*/ }, (args) =>
            args.kind === "dynamic-import" ? { path: args.path, external: true } : undefined,
          ),
      },
    ],
  });
  const packages = new Set<string>();
  for (const input of Object.values(metafile.inputs))
    for (const i of input.imports)
      if (i.external && i.kind === "import-statement" && !i.path.startsWith("node:"))
        packages.add(i.path);
  const sources = Object.keys(metafile.inputs).map((path) => path.slice(path.indexOf("src/") + 4));
  return { sources: sources.sort(), packages: [...packages].sort() };
}

describe("the sluice command line", () => {
  // Parsing the command line and printing help load the command tree alone; what a command
  // runs (engine, primitives, server, NATS, PostgreSQL, codecs) is imported by its action.
  it("loads no implementation before a command runs", async () => {
    const { sources, packages } = await staticImports();
    expect(packages).toEqual(["commander"]);
    const allowed = [
      /^cli\/[a-z-]+\.ts$/,
      /^errors\//,
      // --aws-credentials is parsed by the server's own reader, a leaf module.
      /^server\/aws\/(sigv4|aws-error)\.ts$/,
      // The benchmarks' report writer (node:fs and node:os only) and reference workload (a worker).
      /^observability\/(bench-report|machine-speed)\.ts$/,
      // The release, for --version: one constant.
      /^version\.ts$/,
    ];
    expect(sources.filter((s) => !allowed.some((a) => a.test(s)))).toEqual([]);
    expect(sources).toContain("cli/program.ts");
  });
});
