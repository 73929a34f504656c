import { describeValue } from "../../errors/index.js";
import { type BaseUrl, resolveBaseUrl } from "../base-url.js";
import { PubSubError } from "./pubsub-error.js";

/** Where topics say they live: SNS-style ARNs and the URL confirmations point at. */
export interface PubSubAddressing {
  /**
   * Default "http://localhost:9911" (the server's SNS endpoint); a function is asked each time
   * a URL is made.
   */
  readonly baseUrl?: BaseUrl;
  /** Default "us-east-1". */
  readonly region?: string;
  /** Default "000000000000". */
  readonly accountId?: string;
}

const NAME = /^[A-Za-z0-9_-]{1,256}$/;
const FIFO_NAME = /^[A-Za-z0-9_-]{1,251}\.fifo$/;

/** Checks an SNS topic name: 1-256 of [A-Za-z0-9_-], FIFO names ending in ".fifo". */
export function checkTopicName(name: unknown): string {
  if (typeof name !== "string" || (!NAME.test(name) && !FIFO_NAME.test(name)))
    throw new PubSubError(
      "InvalidParameter",
      `Invalid parameter: Topic Name Reason: expected 1-256 characters of A-Z a-z 0-9 _ - (FIFO names end in .fifo), got ${describeValue(name)}`,
      "Name",
    );
  return name;
}

/** Builds and parses the ARNs of one service's topics and subscriptions. */
export class TopicAddresses {
  private readonly base: BaseUrl;
  readonly region: string;
  readonly accountId: string;

  constructor(options: PubSubAddressing = {}) {
    this.base = options.baseUrl ?? "http://localhost:9911";
    this.region = options.region ?? "us-east-1";
    this.accountId = options.accountId ?? "000000000000";
  }

  /** The base of this service's URLs, as it is now. */
  get baseUrl(): string {
    return resolveBaseUrl(this.base);
  }

  topicArn(name: string): string {
    return `arn:aws:sns:${this.region}:${this.accountId}:${name}`;
  }

  subscriptionArn(topic: string, id: string): string {
    return `${this.topicArn(topic)}:${id}`;
  }

  /** The topic name in a topic ARN of this region and account, or undefined. */
  topicName(arn: unknown): string | undefined {
    if (typeof arn !== "string") return undefined;
    const prefix = `arn:aws:sns:${this.region}:${this.accountId}:`;
    if (!arn.startsWith(prefix)) return undefined;
    const name = arn.slice(prefix.length);
    return name.length > 0 && !name.includes(":") ? name : undefined;
  }

  /** The topic name and subscription id in a subscription ARN, or undefined. */
  subscriptionParts(arn: unknown): { topic: string; id: string } | undefined {
    if (typeof arn !== "string") return undefined;
    const colon = arn.lastIndexOf(":");
    const topic = this.topicName(arn.slice(0, colon));
    const id = arn.slice(colon + 1);
    return topic === undefined || id === "" ? undefined : { topic, id };
  }

  unsubscribeUrl(subscriptionArn: string): string {
    return `${this.baseUrl}/?Action=Unsubscribe&SubscriptionArn=${encodeURIComponent(subscriptionArn)}`;
  }

  subscribeUrl(topicArn: string, token: string): string {
    return `${this.baseUrl}/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(topicArn)}&Token=${token}`;
  }
}
