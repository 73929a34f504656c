import { type NatsConnection, connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, expect, it } from "vitest";
import { AnswerLostError, ReconnectWatch } from "./reconnect-watch.js";
import type { LoopbackNatsCluster } from "./loopback-nats-cluster.js";
import { startTestCluster } from "./test-support/nats-cluster.js";
import { describeWithNats } from "./test-support/describe-with-nats.js";

// A request in flight when its server dies: the client reconnects to another server within about
// a second, but NATS does not send the request again, so without the watch the caller waits out
// the whole request timeout (20 s here, to tell the two apart).
const REQUEST_TIMEOUT_MS = 20_000;

describeWithNats("ReconnectWatch on a 3-node cluster", () => {
  let cluster: LoopbackNatsCluster;
  beforeAll(async () => {
    cluster = await startTestCluster(3);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  /**
   * A connection to node 0 (the one the test kills) and a responder on node 1 that stays silent
   * for its first request and answers the ones after.
   */
  async function setUp(subject: string) {
    const others = cluster.servers.split(",").filter((url) => url !== cluster.urlOf(0));
    const nc = await connect({
      servers: [cluster.urlOf(0), ...others],
      noRandomize: true,
      maxReconnectAttempts: -1,
    });
    const responder = await connect({ servers: [cluster.urlOf(1)] });
    let asked = 0;
    responder.subscribe(subject, {
      callback: (_error, m) => {
        if (++asked > 1) m.respond(`answer ${asked}`);
      },
    });
    await responder.flush();
    // the interest must reach node 0 before a request goes there
    for (;;) {
      const probe = await nc
        .request(subject, "", { timeout: 200 })
        .then(() => true)
        .catch(() => false);
      if (probe || asked > 0) break;
    }
    asked = 0;
    return { nc, responder, asked: () => asked };
  }

  async function restore(connections: NatsConnection[]): Promise<void> {
    for (const nc of connections) await nc.close();
    await cluster.restartNode(0);
  }

  it("read: a request whose server died is sent again once the client has reconnected, long before its timeout", async () => {
    const { nc, responder, asked } = await setUp("watch.read");
    const watch = new ReconnectWatch(nc);
    try {
      const started = performance.now();
      const answer = watch.read(() =>
        nc.request("watch.read", "", { timeout: REQUEST_TIMEOUT_MS }).then((m) => m.string()),
      );
      while (asked() === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      await cluster.kill(0);
      expect(await answer).toBe("answer 2");
      expect(performance.now() - started).toBeLessThan(REQUEST_TIMEOUT_MS / 2);
    } finally {
      watch.close();
      await restore([nc, responder]);
    }
  }, 60_000);

  it("once: a request whose answer was lost ends in AnswerLostError, not in its timeout", async () => {
    const { nc, responder, asked } = await setUp("watch.once");
    const watch = new ReconnectWatch(nc);
    try {
      const started = performance.now();
      const answer = watch.once(() =>
        nc.request("watch.once", "", { timeout: REQUEST_TIMEOUT_MS }),
      );
      while (asked() === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      await cluster.kill(0);
      await expect(answer).rejects.toBeInstanceOf(AnswerLostError);
      expect(performance.now() - started).toBeLessThan(REQUEST_TIMEOUT_MS / 2);
      expect(asked()).toBe(1);
    } finally {
      watch.close();
      await restore([nc, responder]);
    }
  }, 60_000);
});
