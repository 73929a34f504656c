export { SluiceError, asError, describeValue, invalid, isSluiceError } from "./sluice-error.js";
export type { ErrorCode, SluiceErrorOptions } from "./sluice-error.js";
export { ERROR_FIELD_HEADER } from "./error-field-header.js";
