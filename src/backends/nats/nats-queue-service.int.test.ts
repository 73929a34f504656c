import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, it } from "vitest";
import { describeQueueConformance } from "../../messaging/queues/conformance.js";
import type { QueueService } from "../../messaging/queues/queue-service.js";
import type { Clock } from "../../time/index.js";
import { NatsQueueService } from "./nats-queue-service.js";
import { NatsCluster, natsServerMissing } from "./test-support/nats-cluster.js";

// The queue conformance suite against a 3-node JetStream cluster started for this file, every
// stream and the catalog replicated 3 times. Each test gets its own namespace (fresh streams).
const missing = natsServerMissing();
let cluster: NatsCluster | undefined;
const namespaceOf = new WeakMap<QueueService, string>();

if (missing !== undefined && process.env.CI === "true") {
  it("needs nats-server under CI", () => {
    throw new Error(`NATS integration tests cannot run: ${missing}`);
  });
} else {
  (missing === undefined ? describe : describe.skip)(
    missing === undefined ? "NATS JetStream queues" : `NATS JetStream queues (skipped: ${missing})`,
    () => {
      beforeAll(async () => {
        cluster = await NatsCluster.start(3);
      });
      afterAll(async () => {
        await cluster?.stop();
      });

      const open = async (clock: Clock, ns: string): Promise<NatsQueueService> => {
        const service = await NatsQueueService.open({
          servers: cluster!.servers,
          clock,
          replicas: 3,
          namespace: ns,
        });
        namespaceOf.set(service, ns);
        return service;
      };

      describeQueueConformance({
        name: "NATS JetStream, 3 nodes, replicas 3",
        open: (clock) => open(clock, `T${randomBytes(4).toString("hex")}`),
        async reopen(service, clock) {
          const ns = namespaceOf.get(service);
          if (ns === undefined) throw new Error("reopen: not a service this harness opened");
          await service.close();
          return open(clock, ns);
        },
      });
    },
  );
}
