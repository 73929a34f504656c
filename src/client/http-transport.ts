import { ERROR_FIELD_HEADER, SluiceError } from "../errors/index.js";

/** One JSON call to a Sluice server: method, path (already encoded), optional body. */
export interface HttpCall {
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  readonly path: string;
  readonly body?: unknown;
  readonly signal?: AbortSignal;
  /** Sent as is; `content-type` here replaces the JSON default (the AWS JSON protocols). */
  readonly headers?: Readonly<Record<string, string>>;
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
    this.base = baseUrl.replace(/\/+$/, "");
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
    const signal =
      call.signal === undefined
        ? this.closing.signal
        : AbortSignal.any([this.closing.signal, call.signal]);
    const headers: Record<string, string> = {};
    if (call.body !== undefined) headers["content-type"] = "application/json";
    Object.assign(headers, call.headers);
    if (this.options.authToken !== undefined)
      headers.authorization = `Bearer ${this.options.authToken}`;
    this.pending++;
    try {
      let response: Response;
      let text: string;
      try {
        response = await fetch(this.base + call.path, {
          method: call.method,
          headers,
          signal,
          ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
        });
        text = await response.text();
      } catch (error) {
        throw isAbort(error) ? error : networkError(error, this.base + call.path);
      }
      if (response.ok) return text === "" ? undefined : (JSON.parse(text) as unknown);
      throw onError(parseError(response, text));
    } finally {
      this.pending--;
    }
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

function parseError(response: Response, text: string): RemoteError {
  const status = response.status;
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
      const field = response.headers.get(ERROR_FIELD_HEADER);
      const name = aws.__type.slice(aws.__type.lastIndexOf("#") + 1);
      return {
        status,
        code: status >= 500 ? "SLUICE_INTERNAL" : "SLUICE_VALIDATION",
        name,
        message: aws.message,
        ...(field === null ? {} : { field: decodeURIComponent(field) }),
      };
    }
  } catch {
    // not JSON: fall through to a generic error
  }
  return {
    status,
    code: status >= 500 ? "SLUICE_INTERNAL" : "SLUICE_VALIDATION",
    name: `HTTP${status}`,
    message: `the server answered ${status}: ${text.slice(0, 200)}`,
  };
}

/** Whether an error is the abort of a call (by its signal or by close). */
export function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError");
}

/** A transport failure (connection refused, reset) as a Sluice error. */
export function networkError(error: unknown, url: string): SluiceError {
  return new SluiceError("SLUICE_IO", `request to ${url} failed: ${(error as Error).message}`, {
    cause: error,
  });
}
