import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isSluiceError } from "../errors/index.js";
import { EmbeddedQueueService } from "../messaging/queues/index.js";
import { VirtualClock } from "../time/virtual-clock.js";
import { open } from "./open.js";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "sluice-open-"));
  dirs.push(dir);
  return dir;
}
/** A copy of the queue directory written by release 0.1.0 (see test-support/write-queue-fixture.ts). */
function fixtureCopy(): string {
  const dir = join(tempDir(), "data");
  cpSync(new URL("./fixtures/queues-0.1.0", import.meta.url), dir, { recursive: true });
  return dir;
}
/** The fixture's messages were written at this time; reading them later must not expire them. */
const fixtureClock = (): VirtualClock => new VirtualClock(Date.UTC(2026, 11, 1, 0, 1));

afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("open(dir)", () => {
  it("hosts queues and topics in their own sub-directories, reporting into one registry", async () => {
    const dir = tempDir();
    const sluice = await open(dir, { fsync: "never" });
    const { QueueUrl } = await sluice.queues.createQueue({ QueueName: "jobs" });
    await sluice.queues.sendMessage({ QueueUrl, MessageBody: "hello" });
    await sluice.topics.admin.createTopic({ name: "events", partitions: 2 });
    const producer = sluice.topics.producer({ lingerMs: 0 });
    await producer.send({ topic: "events", key: "k", value: "v" });
    expect(existsSync(join(dir, "queues", "catalog"))).toBe(true);
    expect(existsSync(join(dir, "topics", "partitions", "events-0"))).toBe(true);
    const logs = new Set(
      sluice.metrics
        .collect()
        .filter((m) => m.name === "sluice_log_appends_total")
        .map((m) => m.labels.log),
    );
    expect(logs.has("topic/events/0") || logs.has("topic/events/1")).toBe(true);
    expect([...logs].some((name) => name === "queue/jobs")).toBe(true);
    await sluice.close();
    const again = await open(dir, { fsync: "never" });
    const { Messages } = await again.queues.receiveMessage({
      QueueUrl: (await again.queues.getQueueUrl({ QueueName: "jobs" })).QueueUrl,
    });
    expect(Messages.map((m) => m.Body)).toEqual(["hello"]);
    expect(await again.topics.admin.listTopics()).toEqual(["events"]);
    await again.close();
  });

  it("holds one lock: a second open of the same directory is refused until close", async () => {
    const dir = tempDir();
    const sluice = await open(dir, { fsync: "never" });
    const error: unknown = await open(dir).catch((e: unknown) => e);
    expect(isSluiceError(error, "SLUICE_LOCKED")).toBe(true);
    // Said as what the user opened, and by whom.
    expect((error as Error).message).toBe(
      `data directory ${dir} is already open for writing by this process`,
    );
    await sluice.close();
    await (await open(dir, { fsync: "never" })).close();
  });

  it("refuses one of two opens of the same directory started together in one process", async () => {
    const dir = tempDir();
    const results = await Promise.allSettled([
      open(dir, { fsync: "never" }),
      open(dir, { fsync: "never" }),
    ]);
    const opened = results.filter((r) => r.status === "fulfilled");
    const refused = results.filter((r) => r.status === "rejected");
    expect(opened).toHaveLength(1);
    expect(isSluiceError(refused[0]?.reason, "SLUICE_LOCKED")).toBe(true);
    await opened[0]!.value.close();
  });

  it("opens a queue directory written by release 0.1.0 unchanged, and adds topics beside it", async () => {
    const dir = fixtureCopy();
    const clock = fixtureClock();
    const sluice = await open(dir, { clock, fsync: "never" });
    expect(sluice.layout.legacyQueues).toBe(true);
    const { QueueUrls } = await sluice.queues.listQueues();
    expect(QueueUrls.map((u) => u.slice(u.lastIndexOf("/") + 1))).toEqual(["jobs", "orders.fifo"]);
    const jobs = (await sluice.queues.getQueueUrl({ QueueName: "jobs" })).QueueUrl;
    const { Attributes } = await sluice.queues.getQueueAttributes({
      QueueUrl: jobs,
      AttributeNames: ["VisibilityTimeout", "ApproximateNumberOfMessages"],
    });
    expect(Attributes).toMatchObject({ VisibilityTimeout: "60", ApproximateNumberOfMessages: "4" });
    const fifo = (await sluice.queues.getQueueUrl({ QueueName: "orders.fifo" })).QueueUrl;
    const { Messages } = await sluice.queues.receiveMessage({
      QueueUrl: fifo,
      MaxNumberOfMessages: 10,
    });
    expect(Messages.map((m) => m.Body)).toEqual(["order-0", "order-1", "order-2"]);
    await sluice.topics.admin.createTopic({ name: "beside" });
    await sluice.close();
    // The queue service on its own still reads the same directory.
    const sqs = await EmbeddedQueueService.open(dir, { clock, fsync: "never" });
    expect((await sqs.listQueues()).QueueUrls).toHaveLength(2);
    await sqs.close();
  });

  it("EmbeddedQueueService.open reads the 0.1.0 fixture directly", async () => {
    const dir = fixtureCopy();
    const sqs = await EmbeddedQueueService.open(dir, { clock: fixtureClock(), fsync: "never" });
    const jobs = (await sqs.getQueueUrl({ QueueName: "jobs" })).QueueUrl;
    const { Messages } = await sqs.receiveMessage({ QueueUrl: jobs, MaxNumberOfMessages: 10 });
    expect(Messages.map((m) => m.Body).sort()).toEqual(["job-1", "job-2", "job-3", "job-4"]);
    await sqs.close();
  });

  it("hosts the event store, pub/sub and the bus too, wired to its queues, and reopens them", async () => {
    const dir = tempDir();
    const sluice = await open(dir, { fsync: "always" });
    const queueArn = async (name: string): Promise<{ url: string; arn: string }> => {
      const { QueueUrl } = await sluice.queues.createQueue({ QueueName: name });
      const { Attributes } = await sluice.queues.getQueueAttributes({
        QueueUrl,
        AttributeNames: ["QueueArn"],
      });
      return { url: QueueUrl, arn: Attributes.QueueArn! };
    };
    await sluice.eventStore.appendToStream("order-1", [
      { type: "OrderPlaced", data: { total: 42 } },
    ]);

    const fanned = await queueArn("fanned");
    const { TopicArn } = await sluice.pubsub.createTopic({ Name: "orders" });
    await sluice.pubsub.subscribe({
      TopicArn,
      Protocol: "sqs",
      Endpoint: fanned.arn,
      Attributes: { RawMessageDelivery: "true" },
    });
    await sluice.pubsub.publish({ TopicArn, Message: "published" });

    const routed = await queueArn("routed");
    await sluice.bus.putRule({ Name: "big", EventPattern: '{"source":["shop"]}' });
    await sluice.bus.putTargets({ Rule: "big", Targets: [{ Id: "q", Arn: routed.arn }] });
    await sluice.bus.putEvents({
      Entries: [{ Source: "shop", DetailType: "OrderPlaced", Detail: '{"total":42}' }],
    });

    for (const [queue, body] of [
      [fanned, "published"],
      [routed, '"total":42'],
    ] as const) {
      const { Messages } = await sluice.queues.receiveMessage({
        QueueUrl: queue.url,
        WaitTimeSeconds: 5,
      });
      expect(Messages[0]?.Body).toContain(body);
    }
    for (const sub of ["eventstore", "pubsub", "bus"])
      expect(existsSync(join(dir, sub))).toBe(true);
    await sluice.close();

    const again = await open(dir);
    const { events } = await again.eventStore.readStream("order-1");
    expect(events.map((e) => e.data)).toEqual([{ total: 42 }]);
    expect((await again.pubsub.listTopics({})).Topics.map((t) => t.TopicArn)).toEqual([TopicArn]);
    await again.close();
  });

  it("removes the directory (and parents) it created when the open then fails, and keeps one that existed", async () => {
    const root = tempDir();
    const made = join(root, "a", "b", "data");
    const unreachable = { messaging: "nats://127.0.0.1:1", fsync: "never" } as const;
    const error: unknown = await open(made, unreachable).catch((e: unknown) => e);
    expect(isSluiceError(error, "SLUICE_IO")).toBe(true);
    expect(existsSync(join(root, "a"))).toBe(false);
    // A parent that holds something else stays, with what it holds.
    mkdirSync(join(root, "shared", "other"), { recursive: true });
    await open(join(root, "shared", "data"), unreachable).catch(() => undefined);
    expect(readdirSync(join(root, "shared"))).toEqual(["other"]);
    // A directory that existed is left, with its contents.
    const existing = join(root, "existing");
    mkdirSync(existing);
    writeFileSync(join(existing, "note"), "mine");
    await open(existing, unreachable).catch(() => undefined);
    expect(readdirSync(existing)).toEqual(["note"]);
  });
});
