import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * How far V8 compiled an engine's hot methods ("optimized", "baseline" or "none") in a fresh
 * process, after that engine's warm-up or without it (see compiled-tiers.ts).
 */
export async function compiledTiers(
  engine: "queues" | "topics",
  warm: boolean,
): Promise<Record<string, string>> {
  const script = join(import.meta.dirname, "compiled-tiers.ts");
  const { stdout } = await run(
    process.execPath,
    ["--allow-natives-syntax", "--import", "tsx", script, engine, warm ? "warm" : "cold"],
    { timeout: 60_000 },
  );
  return JSON.parse(stdout) as Record<string, string>;
}
