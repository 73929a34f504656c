import { isIPv4 } from "node:net";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ipKey, parseIp } from "./ip-address.js";

/** What ipKey must give: the address as a number (IPv4) or fixed-width hex (IPv6). */
function expectedKey(text: string): number | string | undefined {
  const address = parseIp(text);
  if (address === undefined) return undefined;
  return address.family === 4
    ? Number(address.value)
    : address.value.toString(16).padStart(32, "0");
}

describe("ipKey", () => {
  it("reads exactly the IPv4 addresses node's isIPv4 accepts", () => {
    const cases = [
      "10.1.2.3",
      "0.0.0.0",
      "255.255.255.255",
      "256.1.1.1",
      "01.2.3.4",
      "1.2.3",
      "1.2.3.4.5",
      "1..2.3",
      ".1.2.3",
      "1.2.3.",
      "1.2.3.4 ",
      "+1.2.3.4",
      "1.2.3.0x1",
      "1000.1.1.1",
      "::1",
      "::ffff:10.0.0.1",
      "fe80::1",
      "",
      "shop.orders",
    ];
    for (const text of cases) expect(ipKey(text), text).toEqual(expectedKey(text));
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom("0", "1", "2", "5", "9", ".", ":", "a"), maxLength: 16 }),
        (text) => {
          expect(ipKey(text)).toEqual(expectedKey(text));
          if (isIPv4(text)) expect(typeof ipKey(text)).toBe("number");
        },
      ),
      { numRuns: 20_000 },
    );
    const part = fc.string({ unit: fc.constantFrom("0", "1", "2", "5", "6", "9"), maxLength: 4 });
    fc.assert(
      fc.property(fc.array(part, { minLength: 3, maxLength: 5 }), (parts) => {
        const text = parts.join(".");
        expect(ipKey(text), text).toEqual(expectedKey(text));
      }),
      { numRuns: 20_000 },
    );
  });
});
