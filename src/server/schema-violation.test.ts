import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installRestErrorHandler } from "./rest-errors.js";
import { installSchemaValidation } from "./schema-validation.js";
import { type InjectSluice, injectSluice } from "./test-support/inject-sluice.js";

let served: InjectSluice;
beforeAll(async () => {
  served = await injectSluice();
});
afterAll(() => served.close());

/** The error body of a request the schema refuses (400). */
async function refused(
  method: "GET" | "POST",
  url: string,
  payload?: object,
): Promise<{ field: string; message: string }> {
  const answer = await served.server.app.inject({
    method,
    url,
    ...(payload === undefined ? {} : { payload }),
  });
  expect(answer.statusCode, answer.body).toBe(400);
  const { error } = answer.json<{
    error: { code: string; name: string; field: string; message: string };
  }>();
  expect(error).toMatchObject({ code: "SLUICE_VALIDATION", name: "InvalidParameterValue" });
  return { field: error.field, message: error.message };
}

const event = { type: "Opened", data: {} };

describe("REST schema violations", () => {
  it("an anyOf is said in one line: the field, everything it accepts, and what it got", async () => {
    for (const expectedVersion of ["latest", -1, 1.5, null])
      expect(
        await refused("POST", "/streams/account-1/events", { expectedVersion, events: [event] }),
      ).toEqual({
        field: "body.expectedVersion",
        message: `expectedVersion: expected one of "any", "no_stream", "stream_exists" or an integer >= 0, got ${JSON.stringify(expectedVersion)}`,
      });
    expect(
      await refused("POST", "/persistent-subscriptions", { group: "g", startAfter: "start" }),
    ).toEqual({
      field: "body.startAfter",
      message: 'startAfter: expected an integer >= -1 or "end", got "start"',
    });
    // A type list is an anyOf too.
    expect(await refused("POST", "/topics/t/records", { records: [{ value: 5 }] })).toEqual({
      field: "body.records.0.value",
      message: "records.0.value: expected a string or null, got 5",
    });
  });

  it("names the missing or unknown field, and the bound a value broke", async () => {
    expect(await refused("POST", "/streams/account-1/events", {})).toEqual({
      field: "body.events",
      message: "events: missing, expected an array of at least 1 item",
    });
    expect(
      await refused("POST", "/streams/account-1/events", { events: [event], expected: 0 }),
    ).toEqual({
      field: "body.expected",
      message: "expected: unknown field (allowed: expectedVersion, events)",
    });
    expect(await refused("POST", "/streams/account-1/events", { events: [] })).toEqual({
      field: "body.events",
      message: "events: expected an array of at least 1 item, got an array of 0",
    });
    expect(await refused("GET", "/streams/account-1/events?direction=sideways")).toEqual({
      field: "querystring.direction",
      message: 'direction: expected one of "forward", "backward", got "sideways"',
    });
    expect(await refused("GET", "/streams/account-1/events?maxCount=0")).toEqual({
      field: "querystring.maxCount",
      message: "maxCount: expected an integer >= 1, got 0",
    });
  });

  it("inside an anyOf branch that took the value's shape, the field that failed is named", async () => {
    const app = Fastify();
    installSchemaValidation(app);
    installRestErrorHandler(app);
    const target = {
      anyOf: [
        {
          type: "object",
          required: ["url"],
          additionalProperties: false,
          properties: { url: { type: "string", minLength: 1 }, retries: { type: "integer" } },
        },
        { type: "null" },
      ],
    };
    app.post("/", { schema: { body: { type: "object", properties: { target } } } }, () => ({}));
    const answer = async (payload: object) =>
      (await app.inject({ method: "POST", url: "/", payload })).json<{
        error: { field: string; message: string };
      }>().error;
    try {
      expect(await answer({ target: { url: "http://x", retries: "3" } })).toMatchObject({
        field: "body.target.retries",
        message: 'target.retries: expected an integer, got "3"',
      });
      expect(await answer({ target: {} })).toMatchObject({
        field: "body.target.url",
        message: "target.url: missing, expected a non-empty string",
      });
      expect(await answer({ target: { url: "u", timeout: 1 } })).toMatchObject({
        field: "body.target.timeout",
        message: "target.timeout: unknown field (allowed: url, retries)",
      });
      expect(await answer({ target: "http://x" })).toMatchObject({
        field: "body.target",
        message: 'target: expected an object or null, got "http://x"',
      });
    } finally {
      await app.close();
    }
  });
});
