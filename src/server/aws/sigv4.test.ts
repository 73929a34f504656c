import aws4 from "aws4";
import { describe, expect, it } from "vitest";
import { SigV4Verifier, type SignedRequest, parseAwsCredentials } from "./sigv4.js";

// Requests are signed by aws4, an independent implementation of SigV4, so the verifier is
// checked against someone else's reading of the specification, not against itself.
const KEY = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};
const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);

function sign(
  options: { method?: string; path?: string; body?: string; service?: string },
  credentials = KEY,
  signedAtMs = NOW,
): SignedRequest {
  // aws4 keeps an X-Amz-Date it is given, so the signing time is the test's.
  const amzDate = new Date(signedAtMs)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
  const signed = aws4.sign(
    {
      host: "localhost:8080",
      method: options.method ?? "POST",
      path: options.path ?? "/",
      service: options.service ?? "sns",
      region: "us-east-1",
      headers: {
        "X-Amz-Date": amzDate,
        ...(options.body === undefined
          ? {}
          : { "Content-Type": "application/x-www-form-urlencoded; charset=utf-8" }),
      },
      ...(options.body === undefined ? {} : { body: options.body }),
    },
    credentials,
  );
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers ?? {}))
    headers[name.toLowerCase()] = String(value);
  return {
    method: signed.method ?? "GET",
    url: signed.path ?? "/",
    headers,
    body: options.body ?? "",
  };
}

const verifier = new SigV4Verifier(
  [KEY, { accessKeyId: "second", secretAccessKey: "s3cret" }],
  () => NOW,
);
const codeOf = (request: SignedRequest): string | undefined => verifier.verify(request)?.awsCode;

describe("SigV4Verifier", () => {
  it("accepts requests aws4 signed with a configured key: form POSTs, GETs with queries, any path", () => {
    expect(codeOf(sign({ body: "Action=ListTopics&Version=2010-03-31" }))).toBeUndefined();
    expect(
      codeOf(
        sign({
          method: "GET",
          path: "/?TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A0%3At&Action=Publish&Subject=%E2%9C%93&Message=a%20b%2Bc%21",
        }),
      ),
    ).toBeUndefined();
    expect(
      codeOf(
        sign({
          path: "/000000000000/orders",
          body: "Action=SendMessage&MessageBody=hi",
          service: "sqs",
        }),
      ),
    ).toBeUndefined();
    expect(
      codeOf(
        sign(
          { body: "Message=%E2%9C%93", service: "sns" },
          { accessKeyId: "second", secretAccessKey: "s3cret" },
        ),
      ),
    ).toBeUndefined();
  });

  it("refuses a wrong secret, a changed body, path or header with SignatureDoesNotMatch (403)", () => {
    const wrong = verifier.verify(
      sign({ body: "Action=ListTopics" }, { ...KEY, secretAccessKey: "not the secret" }),
    );
    expect(wrong?.awsCode).toBe("SignatureDoesNotMatch");
    expect(wrong?.status).toBe(403);

    const signed = sign({ body: "Action=Publish&Message=pay%2010" });
    expect(codeOf({ ...signed, body: "Action=Publish&Message=pay%201000" })).toBe(
      "SignatureDoesNotMatch",
    );
    expect(codeOf({ ...signed, url: "/other" })).toBe("SignatureDoesNotMatch");
    expect(codeOf({ ...signed, method: "PUT" })).toBe("SignatureDoesNotMatch");
    expect(codeOf({ ...signed, headers: { ...signed.headers, host: "evil:8080" } })).toBe(
      "SignatureDoesNotMatch",
    );
  });

  it("refuses an unknown key with InvalidClientTokenId and no signature with MissingAuthenticationToken", () => {
    expect(codeOf(sign({ body: "x=1" }, { accessKeyId: "nobody", secretAccessKey: "x" }))).toBe(
      "InvalidClientTokenId",
    );
    const signed = sign({ body: "x=1" });
    const { authorization: _dropped, ...unsigned } = signed.headers;
    expect(codeOf({ ...signed, headers: unsigned })).toBe("MissingAuthenticationToken");
  });

  it("refuses an incomplete or malformed Authorization header with IncompleteSignature (400)", () => {
    const signed = sign({ body: "x=1" });
    const auth = String(signed.headers.authorization);
    const withAuth = (authorization: string): SignedRequest => ({
      ...signed,
      headers: { ...signed.headers, authorization },
    });
    const incomplete = verifier.verify(withAuth(auth.replace(/, Signature=[0-9a-f]+/, "")));
    expect(incomplete?.awsCode).toBe("IncompleteSignature");
    expect(incomplete?.status).toBe(400);
    expect(incomplete?.message).toContain("'Signature'");
    expect(codeOf(withAuth(auth.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1")))).toBe(
      "IncompleteSignature",
    );
    expect(codeOf(withAuth(auth.replace("/aws4_request", "/aws5_request")))).toBe(
      "IncompleteSignature",
    );
    expect(codeOf(withAuth(auth.replace(/SignedHeaders=[^,]+/, "SignedHeaders=x-amz-date")))).toBe(
      "IncompleteSignature",
    );
    const { "x-amz-date": _date, ...undated } = signed.headers;
    expect(codeOf({ ...signed, headers: undated })).toBe("IncompleteSignature");
  });

  it("refuses a request signed more than 15 minutes away from the server's clock", () => {
    expect(codeOf(sign({ body: "x=1" }, KEY, NOW - 14 * 60_000))).toBeUndefined();
    const stale = verifier.verify(sign({ body: "x=1" }, KEY, NOW - 16 * 60_000));
    expect(stale?.awsCode).toBe("SignatureDoesNotMatch");
    expect(stale?.message).toContain("Signature expired");
    expect(codeOf(sign({ body: "x=1" }, KEY, NOW + 16 * 60_000))).toBe("SignatureDoesNotMatch");
  });

  it("refuses an x-amz-content-sha256 that is not the body's hash", () => {
    const signed = sign({ body: "x=1" });
    expect(
      codeOf({
        ...signed,
        headers: { ...signed.headers, "x-amz-content-sha256": "UNSIGNED-PAYLOAD" },
      }),
    ).toBe("SignatureDoesNotMatch");
  });
});

describe("parseAwsCredentials", () => {
  it("reads id:secret pairs, one a line, skipping blanks and comments", () => {
    expect(parseAwsCredentials("# keys\nAKID:se/cr+et\n\n  other:x:y  \n", "keys.txt")).toEqual([
      { accessKeyId: "AKID", secretAccessKey: "se/cr+et" },
      { accessKeyId: "other", secretAccessKey: "x:y" },
    ]);
  });

  it("names the line that is not id:secret, and refuses an empty list", () => {
    expect(() => parseAwsCredentials("ok:1\nnocolon", "keys.txt")).toThrow(/keys.txt line 2/);
    expect(() => parseAwsCredentials("# nothing\n", "keys.txt")).toThrow(/no credentials/);
  });
});
