import { InvalidArgumentError } from "commander";
import type { NatsFlush } from "../backends/nats/loopback-nats-cluster.js";

/** Parsers for command-line option values: each refuses bad input naming what it expected. */

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new InvalidArgumentError("expected a positive integer");
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError("expected an integer >= 0");
  return n;
}

export function port(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError("expected a port from 0 to 65535");
  return n;
}

/** A Kafka listener's largest request: at least 1 KiB. */
export function frameBytes(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1024)
    throw new InvalidArgumentError("expected a byte count of at least 1024");
  return n;
}

export type FsyncMode = "always" | "interval" | "never";

export function fsyncMode(value: string): FsyncMode {
  if (value !== "always" && value !== "interval" && value !== "never")
    throw new InvalidArgumentError("expected always, interval or never");
  return value;
}

/** The flush setting of a NATS cluster a bench starts: on the servers' timer, or every write. */
export function natsFlush(value: string): NatsFlush {
  if (value !== "default" && value !== "always")
    throw new InvalidArgumentError("expected default or always");
  return value;
}

/** "user:password,user2:password2" as a map; a password may contain ":" but not ",". */
export function saslUsers(value: string): Map<string, string> {
  const users = new Map<string, string>();
  for (const entry of value.split(",")) {
    const colon = entry.indexOf(":");
    if (colon <= 0 || colon === entry.length - 1)
      throw new InvalidArgumentError(
        `expected user:password pairs separated by commas, got "${entry}"`,
      );
    users.set(entry.slice(0, colon), entry.slice(colon + 1));
  }
  return users;
}
