import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { SluiceError } from "../../errors/index.js";
import { AwsError } from "./aws-error.js";

/** An access key the server accepts and the secret requests must be signed with. */
export interface AwsCredential {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** The parts of an HTTP request a SigV4 signature covers. */
export interface SignedRequest {
  readonly method: string;
  /** The path and query as sent on the wire (still percent-encoded). */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The body as received (UTF-8). */
  readonly body: string;
}

const ALGORITHM = "AWS4-HMAC-SHA256";
/** AWS refuses requests signed more than 15 minutes before or after its own clock. */
const MAX_SKEW_MS = 15 * 60 * 1000;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/**
 * Checks AWS Signature Version 4 (header form) as AWS specifies it: the canonical request
 * (method, URI, query, signed headers, SHA-256 of the body), the string to sign with the
 * credential scope, and the HMAC chain from the secret; refuses requests signed too long ago.
 */
export class SigV4Verifier {
  private readonly secrets: ReadonlyMap<string, string>;

  constructor(
    credentials: readonly AwsCredential[],
    private readonly now: () => number = Date.now,
  ) {
    this.secrets = new Map(credentials.map((c) => [c.accessKeyId, c.secretAccessKey]));
  }

  /** Undefined when the request is signed with a known key; else the error to answer. */
  verify(request: SignedRequest): AwsError | undefined {
    const authorization = header(request.headers, "authorization");
    if (authorization === undefined)
      return authError(
        "MissingAuthenticationToken",
        "Request is missing Authentication Token (this server verifies AWS Signature Version 4)",
      );
    const parsed = parseAuthorization(authorization);
    if (typeof parsed === "string") return authError("IncompleteSignature", parsed, 400);
    const secret = this.secrets.get(parsed.accessKeyId);
    if (secret === undefined)
      return authError(
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
      );
    const amzDate = header(request.headers, "x-amz-date");
    if (amzDate === undefined || !AMZ_DATE.test(amzDate))
      return authError(
        "IncompleteSignature",
        "Authorization header requires an X-Amz-Date header in the form YYYYMMDD'T'HHMMSS'Z'.",
        400,
      );
    if (!parsed.signedHeaders.includes("host"))
      return authError("IncompleteSignature", "The host header must be signed.", 400);
    for (const name of parsed.signedHeaders)
      if (header(request.headers, name) === undefined)
        return authError(
          "IncompleteSignature",
          `Signed header ${name} is not in the request.`,
          400,
        );
    if (parsed.date !== amzDate.slice(0, 8))
      return authError(
        "SignatureDoesNotMatch",
        `Credential should be scoped to a valid date: ${parsed.date} is not the date of X-Amz-Date ${amzDate}.`,
      );
    const signedAt = parseAmzDate(amzDate);
    const skew = Math.abs(this.now() - signedAt);
    if (skew > MAX_SKEW_MS)
      return authError(
        "SignatureDoesNotMatch",
        `Signature expired: ${amzDate} is more than 15 minutes from the server's time ${formatAmzDate(this.now())}.`,
      );
    const bodyHash = sha256(request.body);
    const declared = header(request.headers, "x-amz-content-sha256");
    if (declared !== undefined && declared !== bodyHash)
      return authError(
        "SignatureDoesNotMatch",
        "The x-amz-content-sha256 header does not match the body.",
      );
    const canonical = canonicalRequest(request, parsed.signedHeaders, bodyHash);
    const scope = `${parsed.date}/${parsed.region}/${parsed.service}/aws4_request`;
    const stringToSign = `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256(canonical)}`;
    const key = signingKey(secret, parsed.date, parsed.region, parsed.service);
    const expected = createHmac("sha256", key).update(stringToSign, "utf8").digest();
    const given = Buffer.from(parsed.signature, "hex");
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return authError(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
      );
    return undefined;
  }
}

interface ParsedAuthorization {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

/** The fields of `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`, or why not. */
function parseAuthorization(value: string): ParsedAuthorization | string {
  if (!value.startsWith(`${ALGORITHM} `))
    return `Authorization header must use ${ALGORITHM} (AWS Signature Version 4).`;
  const fields = new Map<string, string>();
  for (const part of value.slice(ALGORITHM.length + 1).split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const missing = ["Credential", "SignedHeaders", "Signature"].filter((f) => !fields.has(f));
  if (missing.length > 0)
    return `Authorization header requires ${missing.map((m) => `'${m}'`).join(", ")} parameter(s).`;
  const scope = fields.get("Credential")!.split("/");
  if (scope.length !== 5 || scope[4] !== "aws4_request" || !/^\d{8}$/.test(scope[1]!))
    return "Credential must be <access key>/<YYYYMMDD>/<region>/<service>/aws4_request.";
  const signature = fields.get("Signature")!;
  if (!/^[0-9a-f]{64}$/.test(signature)) return "Signature must be 64 lowercase hex digits.";
  const signedHeaders = fields.get("SignedHeaders")!.split(";");
  if (signedHeaders.some((h) => h === "" || h !== h.toLowerCase()))
    return "SignedHeaders must be lowercase header names separated by ';'.";
  return {
    accessKeyId: scope[0]!,
    date: scope[1]!,
    region: scope[2]!,
    service: scope[3]!,
    signedHeaders,
    signature,
  };
}

function canonicalRequest(
  request: SignedRequest,
  signedHeaders: readonly string[],
  bodyHash: string,
): string {
  const q = request.url.indexOf("?");
  const path = q < 0 ? request.url : request.url.slice(0, q);
  const query = q < 0 ? "" : request.url.slice(q + 1);
  const headers = signedHeaders
    .map((name) => `${name}:${canonicalHeaderValue(request.headers[name])}\n`)
    .join("");
  return [
    request.method.toUpperCase(),
    canonicalUri(path),
    canonicalQuery(query),
    headers,
    signedHeaders.join(";"),
    bodyHash,
  ].join("\n");
}

/** Services other than S3 sign the path as sent, percent-encoded once more (slashes kept). */
function canonicalUri(path: string): string {
  const segments: string[] = [];
  for (const segment of (path === "" ? "/" : path).split("/")) {
    if (segment === ".") continue;
    if (segment === "..") segments.pop();
    else segments.push(segment);
  }
  let normalized = segments.join("/");
  if (!normalized.startsWith("/")) normalized = `/${normalized}`;
  if (path.endsWith("/") && !normalized.endsWith("/")) normalized += "/";
  return uriEncode(normalized).replace(/%2F/g, "/");
}

/** Query parameters sorted by encoded name, then value, each RFC 3986-encoded. */
function canonicalQuery(query: string): string {
  if (query === "") return "";
  const pairs = query
    .split("&")
    .filter((p) => p !== "")
    .map((p) => {
      const eq = p.indexOf("=");
      const name = eq < 0 ? p : p.slice(0, eq);
      const value = eq < 0 ? "" : p.slice(eq + 1);
      return [uriEncode(decode(name)), uriEncode(decode(value))] as const;
    });
  pairs.sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([n, v]) => `${n}=${v}`).join("&");
}

function canonicalHeaderValue(value: string | string[] | undefined): string {
  const joined = Array.isArray(value) ? value.join(",") : (value ?? "");
  return joined.trim().replace(/\s+/g, " ");
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, "%20"));
  } catch {
    return text;
  }
}

function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const kDate = createHmac("sha256", `AWS4${secret}`).update(date).digest();
  const kRegion = createHmac("sha256", kDate).update(region).digest();
  const kService = createHmac("sha256", kRegion).update(service).digest();
  return createHmac("sha256", kService).update("aws4_request").digest();
}

function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

function header(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  name: string,
): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}

function parseAmzDate(text: string): number {
  const [, y, mo, d, h, mi, s] = AMZ_DATE.exec(text)!;
  return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
}

function formatAmzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
}

function authError(code: string, message: string, status = 403): AwsError {
  return new AwsError(code, message, { status });
}

/**
 * Parses `--aws-credentials`: `<id>:<secret>` pairs, one per line in a file (blank lines and
 * `#` comments skipped) or given directly.
 */
export function parseAwsCredentials(text: string, source: string): AwsCredential[] {
  const out: AwsCredential[] = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const colon = line.indexOf(":");
    if (colon <= 0 || colon === line.length - 1)
      throw new SluiceError(
        "SLUICE_VALIDATION",
        `${source} line ${i + 1}: expected <access key id>:<secret access key>`,
        { field: "aws-credentials" },
      );
    out.push({ accessKeyId: line.slice(0, colon), secretAccessKey: line.slice(colon + 1) });
  }
  if (out.length === 0)
    throw new SluiceError("SLUICE_VALIDATION", `${source}: no credentials`, {
      field: "aws-credentials",
    });
  return out;
}
