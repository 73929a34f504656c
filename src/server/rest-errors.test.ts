import Fastify from "fastify";
import { describe, expect, it } from "vitest";
import { SluiceError } from "../errors/index.js";
import { installRestErrorHandler } from "./rest-errors.js";

async function statusOf(error: Error): Promise<{ status: number; body: unknown }> {
  const app = Fastify();
  installRestErrorHandler(app);
  app.get("/", () => {
    throw error;
  });
  const response = await app.inject({ url: "/" });
  await app.close();
  return { status: response.statusCode, body: response.json() };
}

describe("REST error statuses", () => {
  it("a backend that did not answer in time is the server's failure (504), not the caller's", async () => {
    const timedOut = new SluiceError("SLUICE_TIMEOUT", "s: 1 of 1 messages unacknowledged");
    expect(await statusOf(timedOut)).toMatchObject({
      status: 504,
      body: { error: { code: "SLUICE_TIMEOUT", message: "s: 1 of 1 messages unacknowledged" } },
    });
  });

  it("bad input stays a 400 and a missing thing a 404", async () => {
    expect((await statusOf(new SluiceError("SLUICE_VALIDATION", "x"))).status).toBe(400);
    expect((await statusOf(new SluiceError("SLUICE_NOT_FOUND", "x"))).status).toBe(404);
  });
});
