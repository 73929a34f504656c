/**
 * The HTTP header in which the server's AWS-compatible APIs name the field an error is about:
 * AWS's error bodies have no place for it, and the remote client rebuilds errors with it.
 * URI-encoded, since a field may name a user's key in any script.
 */
export const ERROR_FIELD_HEADER = "x-sluice-error-field";
