import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SluiceError } from "../errors/index.js";
import { type TestServer, startTestServer } from "../server/test-support/test-server.js";
import { connect } from "./connect.js";

// A server with configured AWS keys (and a REST token): connect()'s bus speaks the
// EventBridge API, so it must sign with SigV4 as the AWS SDK would.
const KEY = { accessKeyId: "AKIDSLUICE", secretAccessKey: "right/secret+value" };
const TOKEN = "rest-token";
let sluice: TestServer;

beforeAll(async () => {
  sluice = await startTestServer({ awsCredentials: [KEY], authToken: TOKEN });
});
afterAll(async () => {
  await sluice?.close();
});

/** The refusal's code and the server's name for it. */
async function refusal(call: Promise<unknown>): Promise<{ code: string; name: unknown }> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SluiceError);
  const { code, details } = error as SluiceError;
  return { code, name: details?.name };
}

describe("remote event bus against a server that verifies SigV4", () => {
  it("signs its calls with the configured key: rules, targets and events go through", async () => {
    const remote = connect(sluice.url, { authToken: TOKEN, awsCredentials: KEY });
    try {
      const { QueueUrl } = await remote.queues.createQueue({ QueueName: "signed-target" });
      const { Attributes } = await remote.queues.getQueueAttributes({
        QueueUrl: QueueUrl,
        AttributeNames: ["QueueArn"],
      });
      await remote.bus.putRule({ Name: "orders", EventPattern: '{"source":["shop"]}' });
      await remote.bus.putTargets({
        Rule: "orders",
        Targets: [{ Id: "q", Arn: Attributes.QueueArn! }],
      });
      const put = await remote.bus.putEvents({
        Entries: [{ Source: "shop", DetailType: "OrderPlaced", Detail: '{"id":1}' }],
      });
      expect(put.FailedEntryCount).toBe(0);
      const { Messages = [] } = await remote.queues.receiveMessage({
        QueueUrl: QueueUrl,
        WaitTimeSeconds: 5,
      });
      expect(JSON.parse(Messages[0]!.Body)).toMatchObject({ source: "shop", detail: { id: 1 } });
    } finally {
      await remote.close();
    }
  });

  it("is refused without credentials or with a wrong secret, with the server's error names", async () => {
    const unsigned = connect(sluice.url, { authToken: TOKEN });
    const wrong = connect(sluice.url, {
      authToken: TOKEN,
      awsCredentials: { ...KEY, secretAccessKey: "wrong" },
    });
    try {
      expect(await refusal(unsigned.bus.listEventBuses())).toEqual({
        code: "SLUICE_UNAUTHORIZED",
        name: "MissingAuthenticationToken",
      });
      expect(await refusal(wrong.bus.listEventBuses())).toEqual({
        code: "SLUICE_UNAUTHORIZED",
        name: "SignatureDoesNotMatch",
      });
    } finally {
      await unsigned.close();
      await wrong.close();
    }
  });
});
