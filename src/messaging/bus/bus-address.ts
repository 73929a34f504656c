import { describeValue } from "../../errors/index.js";
import { invalidField } from "./bus-error.js";

/** Where buses, rules, archives and replays say they live. */
export interface BusAddressing {
  /** Default "us-east-1". */
  readonly region?: string;
  /** Default "000000000000". */
  readonly accountId?: string;
}

const BUS_NAME = /^[/.\-_A-Za-z0-9]{1,256}$/;
const RULE_NAME = /^[.\-_A-Za-z0-9]{1,64}$/;
const ARCHIVE_NAME = /^[.\-_A-Za-z0-9]{1,48}$/;

/** Checks a custom bus name (1-256 of / . - _ A-Z a-z 0-9, not starting with "aws."). */
export function checkBusName(name: unknown): string {
  if (typeof name !== "string" || !BUS_NAME.test(name) || name.startsWith("aws."))
    throw invalidField(
      "Name",
      `expected 1-256 of / . - _ A-Z a-z 0-9 not starting with aws., got ${describeValue(name)}`,
    );
  return name;
}

export function checkRuleName(name: unknown, field = "Name"): string {
  if (typeof name !== "string" || !RULE_NAME.test(name))
    throw invalidField(field, `expected 1-64 of . - _ A-Z a-z 0-9, got ${describeValue(name)}`);
  return name;
}

export function checkArchiveName(name: unknown, field: string): string {
  if (typeof name !== "string" || !ARCHIVE_NAME.test(name))
    throw invalidField(field, `expected 1-48 of . - _ A-Z a-z 0-9, got ${describeValue(name)}`);
  return name;
}

/** Builds and parses EventBridge ARNs of one service. */
export class BusAddresses {
  readonly region: string;
  readonly accountId: string;

  constructor(options: BusAddressing = {}) {
    this.region = options.region ?? "us-east-1";
    this.accountId = options.accountId ?? "000000000000";
  }

  private base(): string {
    return `arn:aws:events:${this.region}:${this.accountId}`;
  }

  busArn(bus: string): string {
    return `${this.base()}:event-bus/${bus}`;
  }

  ruleArn(bus: string, rule: string): string {
    return bus === "default" ? `${this.base()}:rule/${rule}` : `${this.base()}:rule/${bus}/${rule}`;
  }

  archiveArn(name: string): string {
    return `${this.base()}:archive/${name}`;
  }

  replayArn(name: string): string {
    return `${this.base()}:replay/${name}`;
  }

  /** A bus given by name or ARN, as a name (undefined when it is neither). */
  busName(nameOrArn: unknown): string | undefined {
    if (nameOrArn === undefined) return "default";
    if (typeof nameOrArn !== "string")
      throw invalidField(
        "EventBusName",
        `expected a bus name or ARN, got ${describeValue(nameOrArn)}`,
      );
    const prefix = `${this.base()}:event-bus/`;
    if (nameOrArn.startsWith("arn:"))
      return nameOrArn.startsWith(prefix) ? nameOrArn.slice(prefix.length) : undefined;
    return nameOrArn;
  }

  /** The bus name in a bus ARN, or undefined (a plain name is not an ARN). */
  busFromArn(arn: unknown): string | undefined {
    const prefix = `${this.base()}:event-bus/`;
    return typeof arn === "string" && arn.startsWith(prefix) && arn.length > prefix.length
      ? arn.slice(prefix.length)
      : undefined;
  }

  /** The bus and rule names in a rule ARN, or undefined. */
  ruleFromArn(arn: unknown): { bus: string; rule: string } | undefined {
    const prefix = `${this.base()}:rule/`;
    if (typeof arn !== "string" || !arn.startsWith(prefix)) return undefined;
    const rest = arn.slice(prefix.length);
    const slash = rest.lastIndexOf("/");
    return slash < 0
      ? { bus: "default", rule: rest }
      : { bus: rest.slice(0, slash), rule: rest.slice(slash + 1) };
  }

  archiveName(arn: unknown): string | undefined {
    const prefix = `${this.base()}:archive/`;
    return typeof arn === "string" && arn.startsWith(prefix) ? arn.slice(prefix.length) : undefined;
  }
}
