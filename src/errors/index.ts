export { SluiceError, asError, invalid, isSluiceError } from "./sluice-error.js";
export type { ErrorCode, SluiceErrorOptions } from "./sluice-error.js";
