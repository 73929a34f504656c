import aws4 from "aws4";
import { ERROR_FIELD_HEADER, SluiceError, invalid } from "../errors/index.js";

/** One JSON call to a Sluice server: method, path (already encoded), optional body. */
export interface HttpCall {
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  readonly path: string;
  readonly body?: unknown;
  readonly signal?: AbortSignal;
  /** Sent as is; `content-type` here replaces the JSON default (the AWS JSON protocols). */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * A call to one of the server's AWS-compatible APIs (e.g. "events"): signed with SigV4 when
   * the transport has AWS credentials, as a server with configured keys requires.
   */
  readonly awsService?: string;
}

/** An error answer of the REST API, as the server sends it. */
export interface RemoteError {
  readonly status: number;
  readonly code: string;
  readonly name: string;
  readonly message: string;
  readonly field?: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

export interface HttpTransportOptions {
  /** Sent as `Authorization: Bearer <token>` (the server's `--auth-token`). */
  readonly authToken?: string;
  /**
   * Signs the calls to the server's AWS-compatible APIs with SigV4 (the server's
   * `--aws-credentials`); without them those calls go unsigned, which a server with no
   * configured keys accepts, as AWS emulators do.
   */
  readonly awsCredentials?: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    /** The region signed into the credential scope (default "us-east-1"). */
    readonly region?: string;
  };
}

/**
 * JSON over HTTP/1.1 keep-alive (Node's fetch) with the bookkeeping a client needs: calls in
 * flight can be counted and are all aborted by `close()`.
 */
export class HttpTransport {
  private readonly base: string;
  private readonly closing = new AbortController();
  private pending = 0;

  constructor(
    baseUrl: string,
    private readonly options: HttpTransportOptions = {},
  ) {
    this.base = checkServerUrl(baseUrl).replace(/\/+$/, "");
  }

  /** Calls sent and not yet answered. */
  get pendingCalls(): number {
    return this.pending;
  }

  get closed(): boolean {
    return this.closing.signal.aborted;
  }

  /** Sends a call; resolves with the parsed JSON answer (undefined for 204), rejects with `onError`'s error. */
  async call(call: HttpCall, onError: (error: RemoteError) => Error): Promise<unknown> {
    let headers: Record<string, string> = {};
    if (call.body !== undefined) headers["content-type"] = "application/json";
    Object.assign(headers, call.headers);
    const body = call.body === undefined ? undefined : JSON.stringify(call.body);
    // The AWS APIs take SigV4 or nothing; the REST token is not theirs to see.
    const credentials = this.options.awsCredentials;
    if (call.awsService === undefined) {
      if (this.options.authToken !== undefined)
        headers.authorization = `Bearer ${this.options.authToken}`;
    } else if (credentials !== undefined)
      headers = this.signed(call, headers, body, call.awsService, credentials);
    // A signal of this call's own: fetch keeps a listener on the signal it is given until the
    // request is garbage-collected, so the transport's long-lived one would gather a listener
    // per call (Node warns at 1,500). This call's listener on it goes when the call ends.
    const own = new AbortController();
    const abortOwn = (): void => own.abort(this.closing.signal.reason);
    this.closing.signal.addEventListener("abort", abortOwn, { once: true });
    if (this.closing.signal.aborted) abortOwn();
    const signal =
      call.signal === undefined ? own.signal : AbortSignal.any([own.signal, call.signal]);
    this.pending++;
    try {
      let response: Response;
      let text: string;
      try {
        response = await fetch(this.base + call.path, {
          method: call.method,
          headers,
          signal,
          ...(body === undefined ? {} : { body }),
        });
        text = await response.text();
      } catch (error) {
        throw isAbort(error) ? error : networkError(error, this.base + call.path);
      }
      if (response.ok) return text === "" ? undefined : (JSON.parse(text) as unknown);
      throw onError(
        parseErrorAnswer(response.status, text, response.headers.get(ERROR_FIELD_HEADER)),
      );
    } finally {
      this.pending--;
      this.closing.signal.removeEventListener("abort", abortOwn);
    }
  }

  /** `headers` with SigV4's `authorization` and `x-amz-date` for this call. */
  private signed(
    call: HttpCall,
    headers: Record<string, string>,
    body: string | undefined,
    service: string,
    credentials: NonNullable<HttpTransportOptions["awsCredentials"]>,
  ): Record<string, string> {
    const url = new URL(this.base + call.path);
    const request = aws4.sign(
      {
        host: url.host,
        method: call.method,
        path: url.pathname + url.search,
        service,
        region: credentials.region ?? "us-east-1",
        headers,
        ...(body === undefined ? {} : { body }),
      },
      credentials,
    );
    // fetch sends the URL's own Host, the one signed above.
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers ?? {}))
      if (name.toLowerCase() !== "host") out[name] = String(value);
    return out;
  }

  /** The server's URL with ws: or wss: for WebSocket streams. */
  webSocketUrl(path: string): string {
    return this.base.replace(/^http/, "ws") + path;
  }

  /** Headers a WebSocket upgrade needs (the auth token). */
  get webSocketHeaders(): Record<string, string> {
    return this.options.authToken === undefined
      ? {}
      : { authorization: `Bearer ${this.options.authToken}` };
  }

  /** Aborts every call in flight; later calls fail at once. */
  close(): void {
    this.closing.abort();
  }
}

/**
 * An error answer of the server (`status`, its body, and the field header the AWS JSON
 * protocols name the field in) as the server meant it.
 */
export function parseErrorAnswer(
  status: number,
  text: string,
  fieldHeader: string | null,
): RemoteError {
  try {
    const body = JSON.parse(text) as { error?: Partial<RemoteError> };
    const e = body.error;
    if (e !== undefined && typeof e.code === "string" && typeof e.message === "string")
      return {
        status,
        code: e.code,
        name: typeof e.name === "string" ? e.name : e.code,
        message: e.message,
        ...(typeof e.field === "string" ? { field: e.field } : {}),
        ...(typeof e.details === "object" && e.details !== null ? { details: e.details } : {}),
      };
    // An AWS JSON error: `__type` (after any namespace) is the name; the field, which AWS's
    // body has no place for, comes in a header of its own.
    const aws = body as { __type?: unknown; message?: unknown };
    if (typeof aws.__type === "string" && typeof aws.message === "string") {
      const name = aws.__type.slice(aws.__type.lastIndexOf("#") + 1);
      return {
        status,
        code: codeOfStatus(status),
        name,
        message: aws.message,
        ...(fieldHeader === null ? {} : { field: decodeURIComponent(fieldHeader) }),
      };
    }
  } catch {
    // not JSON: fall through to a generic error
  }
  return {
    status,
    code: codeOfStatus(status),
    name: `HTTP${status}`,
    message: `the server answered ${status}: ${text.slice(0, 200)}`,
  };
}

/** The Sluice code of an error answer that names none of its own. */
function codeOfStatus(status: number): string {
  if (status === 401 || status === 403) return "SLUICE_UNAUTHORIZED";
  return status >= 500 ? "SLUICE_INTERNAL" : "SLUICE_VALIDATION";
}

/** Whether an error is the abort of a call (by its signal or by close). */
export function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError");
}

/** A transport failure (connection refused, reset) as a Sluice error. */
export function networkError(error: unknown, url: string): SluiceError {
  return new SluiceError("SLUICE_IO", `request to ${url} failed: ${failureOf(error)}`, {
    cause: error,
  });
}

/**
 * What went wrong, said as the operating system said it: fetch's own message is only "fetch
 * failed", its cause says "connect ECONNREFUSED 127.0.0.1:8080" (or, for a name with several
 * addresses, each attempt's cause does).
 */
function failureOf(error: unknown): string {
  const message = (error as Error).message;
  const cause = (error as { cause?: unknown }).cause;
  if (!(cause instanceof Error)) return message;
  const attempts = cause instanceof AggregateError ? cause.errors : [cause];
  const reasons = [...new Set(attempts.map((e) => (e as Error).message).filter((m) => m !== ""))];
  return reasons.length === 0 ? message : `${message} (${reasons.join("; ")})`;
}

/** A server's URL, as `connect` takes it: http:// or https://, host and maybe port and path. */
function checkServerUrl(url: unknown): string {
  const expected = "an http:// or https:// URL of a Sluice server (e.g. http://localhost:8080)";
  if (typeof url !== "string") throw invalid("url", expected, url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid("url", expected, url);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
    throw invalid("url", expected, url);
  return url;
}
