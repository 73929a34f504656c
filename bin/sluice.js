#!/usr/bin/env -S node --max-semi-space-size=64 --initial-old-space-size=64
// The heap is sized for a messaging process: see "Memory and garbage collection" in
// docs/engine.md.
// Runs the compiled CLI when the package is built, the TypeScript sources otherwise (a dev checkout).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const built = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
if (existsSync(built)) {
  await import(built);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import(fileURLToPath(new URL("../src/cli/main.ts", import.meta.url)));
}
