import { isIPv4, isIPv6 } from "node:net";
import type { CidrNetwork } from "./pattern.js";

/** An IP address as an unsigned integer, or undefined when `text` is not one. */
export function parseIp(text: string): { family: 4 | 6; value: bigint } | undefined {
  if (isIPv4(text)) return { family: 4, value: ipv4Value(text) };
  if (isIPv6(text)) return { family: 6, value: ipv6Value(text) };
  return undefined;
}

function ipv4Value(text: string): bigint {
  let value = 0n;
  for (const part of text.split(".")) value = (value << 8n) | BigInt(Number(part));
  return value;
}

function ipv6Value(text: string): bigint {
  // An embedded IPv4 tail (::ffff:1.2.3.4) counts as two groups.
  let groups = text;
  const lastColon = text.lastIndexOf(":");
  const tail = text.slice(lastColon + 1);
  if (tail.includes(".")) {
    const v4 = ipv4Value(tail);
    groups = `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head = "", rest] = groups.split("::");
  const headParts = head === "" ? [] : head.split(":");
  const restParts = rest === undefined || rest === "" ? [] : rest.split(":");
  const zeros = rest === undefined ? 0 : 8 - headParts.length - restParts.length;
  const parts = [...headParts, ...Array<string>(zeros).fill("0"), ...restParts];
  let value = 0n;
  for (const part of parts) value = (value << 16n) | BigInt(parseInt(part, 16));
  return value;
}

/** Parses `a.b.c.d/n` or `x:y::z/n`; undefined when it is not a CIDR block. */
export function parseCidr(text: string): CidrNetwork | undefined {
  const slash = text.indexOf("/");
  if (slash < 0) return undefined;
  const address = parseIp(text.slice(0, slash));
  const bitsText = text.slice(slash + 1);
  if (address === undefined || !/^\d{1,3}$/.test(bitsText)) return undefined;
  const prefixBits = Number(bitsText);
  const width = address.family === 4 ? 32 : 128;
  if (prefixBits > width) return undefined;
  const hostBits = BigInt(width - prefixBits);
  return { family: address.family, base: (address.value >> hostBits) << hostBits, prefixBits };
}

// Events carry one address that many cidr rules test in a row: parse it once.
let lastText: string | undefined;
let lastAddress: { family: 4 | 6; value: bigint } | undefined;

/** Whether `ip` (text) lies in `network`. */
export function inCidr(network: CidrNetwork, ip: string): boolean {
  if (ip !== lastText) {
    lastText = ip;
    lastAddress = parseIp(ip);
  }
  const address = lastAddress;
  if (address === undefined || address.family !== network.family) return false;
  const hostBits = BigInt((network.family === 4 ? 32 : 128) - network.prefixBits);
  return (address.value >> hostBits) << hostBits === network.base;
}

/** The range of addresses a network holds, as lookup keys (see `ipKey`). */
export type NetworkRange =
  | { readonly family: 4; readonly first: number; readonly last: number }
  | { readonly family: 6; readonly first: string; readonly last: string };

const hex128 = (value: bigint): string => value.toString(16).padStart(32, "0");

/** The first and last address of `network`, as `ipKey` gives them. */
export function networkRange(network: CidrNetwork): NetworkRange {
  const hostBits = BigInt((network.family === 4 ? 32 : 128) - network.prefixBits);
  const last = network.base | ((1n << hostBits) - 1n);
  return network.family === 4
    ? { family: 4, first: Number(network.base), last: Number(last) }
    : { family: 6, first: hex128(network.base), last: hex128(last) };
}

/**
 * An address as a key that orders like the address: an IPv4 address as a number, an IPv6
 * address as 32 hex digits (fixed width, so text order is numeric order); undefined when `text`
 * is not an address. Agrees with `parseIp`, without BigInt arithmetic for IPv4.
 */
export function ipKey(text: string): number | string | undefined {
  const v4 = ipv4Key(text);
  if (v4 !== undefined) return v4;
  // Every IPv6 address has a colon: most strings are turned away without the full check.
  if (text.includes(":") && isIPv6(text)) return hex128(ipv6Value(text));
  return undefined;
}

/**
 * A dotted-quad IPv4 address as a number, read in one pass; undefined when `text` is not one.
 * Accepts what `isIPv4` accepts: four decimal parts of 0-255, no leading zeros, no signs.
 */
function ipv4Key(text: string): number | undefined {
  const length = text.length;
  if (length < 7 || length > 15) return undefined;
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || ++dots > 3) return undefined;
      value = value * 256 + part;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits === 1 && part === 0) return undefined; // a leading zero
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return undefined;
    } else return undefined;
  }
  if (dots !== 3 || digits === 0) return undefined;
  return value * 256 + part;
}
