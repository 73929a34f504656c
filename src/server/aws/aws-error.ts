import { SluiceError, isSluiceError } from "../../errors/index.js";

/**
 * An error in an AWS protocol's own terms: `code` is the modern name (`__type` in JSON),
 * `queryCode` the legacy code query-protocol clients know (sent as `<Code>` in XML and in the
 * `x-amzn-query-error` header, which lets JSON-protocol SDKs map it too).
 */
export class AwsError extends SluiceError {
  constructor(
    readonly awsCode: string,
    message: string,
    readonly options: {
      readonly queryCode?: string;
      readonly senderFault?: boolean;
      readonly status?: number;
      readonly field?: string;
    } = {},
  ) {
    super(options.senderFault === false ? "SLUICE_INTERNAL" : "SLUICE_VALIDATION", message, {
      ...(options.field === undefined ? {} : { field: options.field }),
    });
  }

  get queryCode(): string {
    return this.options.queryCode ?? this.awsCode;
  }

  get senderFault(): boolean {
    return this.options.senderFault ?? true;
  }

  get status(): number {
    return this.options.status ?? (this.senderFault ? 400 : 500);
  }
}

/** The error for a request body that is not well-formed in its protocol. */
export function malformedRequest(message: string): AwsError {
  return new AwsError("SerializationException", message, { queryCode: "MalformedQueryString" });
}

/** The error for an operation this server does not serve. */
export function unknownOperation(operation: string): AwsError {
  return new AwsError("UnknownOperationException", `unknown operation ${operation}`, {
    queryCode: "InvalidAction",
  });
}

/** The `field` option of an error that names one. */
export function fieldOf(error: SluiceError): { field?: string } {
  return error.field === undefined ? {} : { field: error.field };
}

/**
 * The errors every AWS service answers alike: bad input (under the service's own code for it)
 * and a server shutting down; undefined for any other error.
 */
export function commonAwsError(error: unknown, validationCode: string): AwsError | undefined {
  if (isSluiceError(error, "SLUICE_VALIDATION"))
    return new AwsError(validationCode, error.message, fieldOf(error));
  if (isSluiceError(error, "SLUICE_CLOSED"))
    return new AwsError("ServiceUnavailable", "the server is shutting down", {
      senderFault: false,
      status: 503,
    });
  return undefined;
}
