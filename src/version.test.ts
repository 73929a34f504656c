import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SLUICE_VERSION } from "./version.js";

describe("SLUICE_VERSION", () => {
  it("is the version package.json releases", () => {
    const manifest = JSON.parse(
      readFileSync(new URL("../package.json", import.meta.url), "utf8"),
    ) as { version: string };
    expect(SLUICE_VERSION).toBe(manifest.version);
  });
});
