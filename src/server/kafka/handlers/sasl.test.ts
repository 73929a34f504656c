import { describe, expect, it } from "vitest";
import { plainUser } from "./sasl.js";

const users = new Map([
  ["alice", "s3cret:with:colons"],
  ["bob", "hunter2"],
]);
const message = (s: string) => Buffer.from(s, "utf8");

describe("PLAIN messages", () => {
  it("accepts a user's password, with or without the same authorization id", () => {
    expect(plainUser(message("\u0000alice\u0000s3cret:with:colons"), users)).toBe("alice");
    expect(plainUser(message("bob\u0000bob\u0000hunter2"), users)).toBe("bob");
  });

  it("refuses wrong passwords, unknown users, other identities and malformed messages", () => {
    expect(plainUser(message("\u0000bob\u0000hunter3"), users)).toBeUndefined();
    expect(plainUser(message("\u0000carol\u0000hunter2"), users)).toBeUndefined();
    expect(plainUser(message("alice\u0000bob\u0000hunter2"), users)).toBeUndefined();
    expect(plainUser(message("bob:hunter2"), users)).toBeUndefined();
    expect(plainUser(message("\u0000bob\u0000hunter2\u0000extra"), users)).toBeUndefined();
  });
});
