import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type InjectSluice, injectSluice } from "../test-support/inject-sluice.js";

// Both query-protocol APIs (SQS 2012-11-05 and SNS 2010-03-31) share the routes on `/`: an error
// must come in the namespace of the API the client spoke, which SDKs check.
const SQS_NAMESPACE = "http://queue.amazonaws.com/doc/2012-11-05/";
const SNS_NAMESPACE = "http://sns.amazonaws.com/doc/2010-03-31/";

let s: InjectSluice;
beforeAll(async () => {
  s = await injectSluice();
});
afterAll(async () => {
  await s?.close();
});

const post = (form: Record<string, string>) =>
  s.server.app.inject({
    method: "POST",
    url: "/",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    payload: new URLSearchParams(form).toString(),
  });

const namespaceOf = (xml: string): string | undefined =>
  /<ErrorResponse xmlns="([^"]*)">/.exec(xml)?.[1];

describe("AWS query protocol routing", () => {
  it("an unknown action is refused with InvalidAction in the namespace of the API its Version names", async () => {
    const sns = await post({ Action: "Nope", Version: "2010-03-31" });
    expect(sns.statusCode).toBe(400);
    expect(sns.body).toContain("<Code>InvalidAction</Code>");
    expect(namespaceOf(sns.body)).toBe(SNS_NAMESPACE);

    const sqs = await post({ Action: "Nope", Version: "2012-11-05" });
    expect(sqs.statusCode).toBe(400);
    expect(namespaceOf(sqs.body)).toBe(SQS_NAMESPACE);

    // As a GET with the query string (`GET /?Action=...`), the same.
    const get = await s.server.app.inject({ url: "/?Action=Nope&Version=2010-03-31" });
    expect(get.statusCode).toBe(400);
    expect(namespaceOf(get.body)).toBe(SNS_NAMESPACE);
  });

  it("without a Version, or with one no API has, an unknown action is answered in the first API's namespace", async () => {
    for (const form of [{ Action: "Nope" }, { Action: "Nope", Version: "1999-01-01" }]) {
      const answer = await post(form);
      expect(answer.statusCode).toBe(400);
      expect(answer.body).toContain("<Code>InvalidAction</Code>");
      expect(namespaceOf(answer.body)).toBe(SQS_NAMESPACE);
    }
  });
});
