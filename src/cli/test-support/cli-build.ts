import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type BuildOptions, buildSync, version as esbuildVersion } from "esbuild";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const SRC = join(ROOT, "src");
/** Inside the package, so the built files resolve the package's node_modules as the sources do. */
const CACHE = join(ROOT, "node_modules", ".cache", "sluice-cli");
/** Builds of other sources older than this are removed when a new one is made. */
const STALE_MS = 60 * 60 * 1000;

/**
 * The same per-file TypeScript-to-JavaScript transform tsx applies when it runs the sources
 * (esbuild, with the project's tsconfig), made ahead of time: no bundling, one .js file per
 * .ts file, imports left as written.
 */
const OPTIONS = {
  outbase: SRC,
  format: "esm",
  platform: "node",
  target: "es2023",
  tsconfig: join(ROOT, "tsconfig.json"),
  logLevel: "warning",
} satisfies BuildOptions;

let built: string | undefined;

/**
 * The path of the CLI's entry point (`cli/main.js`) in a JavaScript build of the current
 * sources, for tests that run `sluice` as a process: `node <path> <args>` starts several times
 * faster than `node --import tsx src/cli/main.ts`, which transforms and resolves every module
 * through loader hooks on each start. The build is made once for a given content of `src/`
 * (a content hash names it) and shared by test files and runs, so a changed source is never
 * run stale.
 */
export function cliMain(): string {
  built ??= build();
  return join(built, "cli", "main.js");
}

function sources(): string[] {
  return readdirSync(SRC, { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".ts") && !file.endsWith(".test.ts"))
    .sort();
}

function build(): string {
  const files = sources();
  const hash = createHash("sha256").update(esbuildVersion).update(JSON.stringify(OPTIONS));
  hash.update(readFileSync(OPTIONS.tsconfig));
  for (const file of files) hash.update(`\0${file}\0`).update(readFileSync(join(SRC, file)));
  const key = hash.digest("hex").slice(0, 16);
  const dir = join(CACHE, key);
  if (existsSync(join(dir, "cli", "main.js"))) return dir;

  mkdirSync(CACHE, { recursive: true });
  // Built aside and renamed into place: a concurrent run sees a whole build or none.
  const partial = `${dir}.${process.pid}.partial`;
  rmSync(partial, { recursive: true, force: true });
  buildSync({ ...OPTIONS, entryPoints: files.map((file) => join(SRC, file)), outdir: partial });
  // ES modules, as the package's own package.json says: Node looks for a package scope no
  // higher than node_modules.
  writeFileSync(join(partial, "package.json"), '{ "type": "module" }\n');
  try {
    renameSync(partial, dir);
  } catch (error) {
    // Another process renamed its identical build first.
    rmSync(partial, { recursive: true, force: true });
    if (!existsSync(join(dir, "cli", "main.js"))) throw error;
  }
  pruneOlderThan(STALE_MS, key);
  return dir;
}

/** Removes builds of earlier sources, leaving recent ones a concurrent run may still use. */
function pruneOlderThan(ageMs: number, keep: string): void {
  const now = Date.now();
  for (const name of readdirSync(CACHE)) {
    if (name === keep) continue;
    const path = join(CACHE, name);
    if (now - statSync(path).mtimeMs > ageMs) rmSync(path, { recursive: true, force: true });
  }
}
