import { describeValue } from "../../errors/index.js";
import { type BaseUrl, resolveBaseUrl } from "../base-url.js";
import { QueueError } from "./queue-error.js";

/** Where queues say they live: SQS-style URLs and ARNs (ElasticMQ's defaults). */
export interface QueueAddressing {
  /** Default "http://localhost:9324"; a function is asked each time a URL is made. */
  readonly baseUrl?: BaseUrl;
  /** Default "us-east-1". */
  readonly region?: string;
  /** Default "000000000000". */
  readonly accountId?: string;
}

const NAME = /^[A-Za-z0-9_-]{1,80}$/;
const FIFO_NAME = /^[A-Za-z0-9_-]{1,75}\.fifo$/;

/** Checks an SQS queue name: 1-80 of [A-Za-z0-9_-], FIFO names ending in ".fifo". */
export function checkQueueName(name: unknown): string {
  if (typeof name !== "string" || (!NAME.test(name) && !FIFO_NAME.test(name)))
    throw new QueueError(
      "InvalidParameterValue",
      `QueueName: expected 1-80 characters of A-Z a-z 0-9 _ - (FIFO names end in .fifo), got ${describeValue(name)}`,
      "QueueName",
    );
  return name;
}

export function isFifoName(name: string): boolean {
  return name.endsWith(".fifo");
}

/** Builds and parses the URLs and ARNs of one service's queues. */
export class QueueAddresses {
  private readonly base: BaseUrl;
  readonly region: string;
  readonly accountId: string;

  constructor(options: QueueAddressing = {}) {
    this.base = options.baseUrl ?? "http://localhost:9324";
    this.region = options.region ?? "us-east-1";
    this.accountId = options.accountId ?? "000000000000";
  }

  /** The base of this service's URLs, as it is now. */
  get baseUrl(): string {
    return resolveBaseUrl(this.base);
  }

  url(name: string): string {
    return `${this.baseUrl}/${this.accountId}/${name}`;
  }

  arn(name: string): string {
    return `arn:aws:sqs:${this.region}:${this.accountId}:${name}`;
  }

  /** The queue name in a queue URL (any host: clients often rewrite it), or undefined. */
  nameFromUrl(url: unknown): string | undefined {
    if (typeof url !== "string") return undefined;
    // The last path segment, and the account before it if any (no split: every call has one).
    const slash = url.lastIndexOf("/");
    const name = url.slice(slash + 1);
    if (name === "") return undefined;
    if (slash >= 0) {
      const before = url.lastIndexOf("/", slash - 1);
      if (url.slice(before + 1, slash) !== this.accountId) return undefined;
    }
    return name;
  }

  /** The queue name in an ARN of this region and account, or undefined. */
  nameFromArn(arn: unknown): string | undefined {
    if (typeof arn !== "string") return undefined;
    const prefix = `arn:aws:sqs:${this.region}:${this.accountId}:`;
    return arn.startsWith(prefix) && arn.length > prefix.length
      ? arn.slice(prefix.length)
      : undefined;
  }
}
