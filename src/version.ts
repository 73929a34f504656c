/** Sluice's release, as package.json names it (src/version.test.ts keeps the two equal). */
export const SLUICE_VERSION = "0.1.0";
