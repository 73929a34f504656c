// SASL/PLAIN (RFC 4616) on the listener: SaslHandshake picks the mechanism, SaslAuthenticate
// carries the credentials. Only in the table when the listener is given users.
import { createHash, timingSafeEqual } from "node:crypto";
import { defineApi, type ApiHandler } from "../api-handler.js";
import { KafkaErrorCode } from "../protocol/error-codes.js";
import {
  saslAuthenticate,
  saslHandshake,
  type SaslAuthenticateRequest,
  type SaslAuthenticateResponse,
  type SaslHandshakeRequest,
  type SaslHandshakeResponse,
} from "../protocol/schemas/index.js";

const MECHANISMS = ["PLAIN"];
const NO_BYTES = Buffer.alloc(0);

/** Compares secrets in time that does not depend on where they differ. */
function sameSecret(a: string, b: string): boolean {
  const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** The user a PLAIN message ("authzid NUL authcid NUL passwd") proves, or undefined. */
export function plainUser(message: Buffer, users: ReadonlyMap<string, string>): string | undefined {
  const parts = message.toString("utf8").split("\u0000");
  if (parts.length !== 3) return undefined;
  const [authzid, user, password] = parts as [string, string, string];
  // Acting as another identity (authzid) is not supported.
  if (authzid !== "" && authzid !== user) return undefined;
  const expected = users.get(user);
  // Compare against something even for an unknown user, so timing does not tell users apart.
  const matches = sameSecret(password, expected ?? "\u0000unknown user");
  return expected !== undefined && matches ? user : undefined;
}

/**
 * SaslHandshake v1. v0 is advertised but not served, as Produce v0-v2 are: librdkafka enables
 * SASL only if the table lists v0, then sends v1. A v0 handshake would be followed by raw tokens
 * outside Kafka's framing, which this listener does not read (it closes such a connection).
 */
export const saslHandshakeApi = defineApi<SaslHandshakeRequest, SaslHandshakeResponse>({
  schema: saslHandshake,
  minVersion: 1,
  maxVersion: 1,
  advertisedMinVersion: 0,
  handle(request, context) {
    if (context.session.authenticated)
      return Promise.resolve({
        errorCode: KafkaErrorCode.ILLEGAL_SASL_STATE,
        mechanisms: MECHANISMS,
      });
    if (!MECHANISMS.includes(request.mechanism))
      return Promise.resolve({
        errorCode: KafkaErrorCode.UNSUPPORTED_SASL_MECHANISM,
        mechanisms: MECHANISMS,
      });
    context.session.mechanism = request.mechanism;
    return Promise.resolve({ errorCode: KafkaErrorCode.NONE, mechanisms: MECHANISMS });
  },
});

/** SaslAuthenticate: one PLAIN message; a failure is answered, then the connection closes. */
export const saslAuthenticateApi = defineApi<SaslAuthenticateRequest, SaslAuthenticateResponse>({
  schema: saslAuthenticate,
  minVersion: 0,
  maxVersion: 2,
  handle(request, context) {
    const session = context.session;
    if (session.mechanism === undefined || session.authenticated) {
      session.closeAfterResponse = true;
      return Promise.resolve({
        errorCode: KafkaErrorCode.ILLEGAL_SASL_STATE,
        errorMessage: "SaslHandshake (mechanism PLAIN) must come first, once",
        authBytes: NO_BYTES,
      });
    }
    const user = plainUser(request.authBytes, context.settings.saslUsers ?? new Map());
    if (user === undefined) {
      session.closeAfterResponse = true;
      return Promise.resolve({
        errorCode: KafkaErrorCode.SASL_AUTHENTICATION_FAILED,
        errorMessage: "Authentication failed: invalid username or password",
        authBytes: NO_BYTES,
      });
    }
    session.authenticated = true;
    session.principal = user;
    return Promise.resolve({
      errorCode: KafkaErrorCode.NONE,
      errorMessage: null,
      authBytes: NO_BYTES,
    });
  },
});

/** The SASL APIs, for a listener that requires authentication. */
export function saslHandlers(): ApiHandler<never, object>[] {
  return [saslHandshakeApi, saslAuthenticateApi] as ApiHandler<never, object>[];
}
