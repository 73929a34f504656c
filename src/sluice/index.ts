export { open, Sluice } from "./open.js";
export type { OpenOptions } from "./open.js";
export { dataDirLayout } from "./data-dir-layout.js";
export type { DataDirLayout } from "./data-dir-layout.js";
