import { JetStreamApiError } from "@nats-io/jetstream";
import { type NatsConnection, TimeoutError, headers } from "@nats-io/transport-node";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PipelinedPublisher, storedSequence } from "./pipelined-publisher.js";
import { fakeConnectionStatus } from "./test-support/fake-connection-status.js";

interface Sent {
  readonly subject: string;
  readonly payload: string;
  readonly reply: string;
}

/** Just enough of a connection: publishes are recorded, answers are pushed by the test. */
function fakeConnection() {
  const sent: Sent[] = [];
  let deliver: ((m: unknown) => void) | undefined;
  const connection = fakeConnectionStatus();
  const nc = {
    status: connection.status,
    publish(subject: string, payload: Uint8Array, opts: { reply: string }) {
      sent.push({ subject, payload: Buffer.from(payload).toString(), reply: opts.reply });
    },
    subscribe(_subject: string, opts: { callback: (e: Error | null, m: unknown) => void }) {
      deliver = (m) => opts.callback(null, m);
      return { unsubscribe: () => (deliver = undefined) };
    },
  } as unknown as NatsConnection;
  const answer = (reply: string, body: object | undefined, code?: number): void => {
    const text = body === undefined ? "" : JSON.stringify(body);
    deliver!({
      subject: reply,
      data: Buffer.from(text),
      headers: code === undefined ? undefined : { code },
      string: () => text,
    });
  };
  return { nc, sent, answer, sendStatus: connection.send };
}

const message = (text: string) => ({ payload: Buffer.from(text), headers: headers() });

describe("PipelinedPublisher", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("sends a whole batch at once and matches acks to messages by reply subject", async () => {
    const { nc, sent, answer } = fakeConnection();
    const publisher = new PipelinedPublisher(nc);
    const done = publisher.publish("s", [message("a"), message("b"), message("c")], false);
    expect(sent.map((s) => s.payload)).toEqual(["a", "b", "c"]);
    answer(sent[2]!.reply, { stream: "S", seq: 12 });
    answer(sent[0]!.reply, { stream: "S", seq: 10 });
    answer(sent[1]!.reply, { stream: "S", seq: 11 });
    await expect(done).resolves.toEqual([10, 11, 12]);
  });

  it("tells of each message as it is stored, before the whole batch is", async () => {
    const { nc, sent, answer } = fakeConnection();
    const publisher = new PipelinedPublisher(nc);
    const stored: Array<[number, number]> = [];
    const done = publisher.publish("s", [message("a"), message("b")], true, (i, seq) =>
      stored.push([i, seq]),
    );
    answer(sent[1]!.reply, { stream: "S", seq: 4 });
    expect(stored).toEqual([[1, 4]]);
    answer(sent[0]!.reply, { stream: "S", seq: 3 });
    expect(stored).toEqual([
      [1, 4],
      [0, 3],
    ]);
    await expect(done).resolves.toEqual([3, 4]);
  });

  it("cancel fails the batches waiting on one subject and leaves the others", async () => {
    const { nc, sent, answer } = fakeConnection();
    const publisher = new PipelinedPublisher(nc);
    const gone = publisher.publish("gone", [message("a")], true);
    const kept = publisher.publish("kept", [message("b")], true);
    publisher.cancel("gone", new Error("closed"));
    await expect(gone).rejects.toThrow("closed");
    await vi.advanceTimersByTimeAsync(2000);
    // The cancelled batch is not sent again; the other one is, until answered.
    expect(sent.map((s) => s.payload)).toEqual(["a", "b", "b"]);
    answer(sent[2]!.reply, { stream: "K", seq: 7 });
    await expect(kept).resolves.toEqual([7]);
  });

  it("sends again only the unanswered messages of a retryable batch, and takes either answer", async () => {
    const { nc, sent, answer } = fakeConnection();
    const publisher = new PipelinedPublisher(nc);
    const done = publisher.publish("s", [message("a"), message("b")], true);
    answer(sent[0]!.reply, { stream: "S", seq: 1 });
    await vi.advanceTimersByTimeAsync(2000);
    expect(sent.map((s) => s.payload)).toEqual(["a", "b", "b"]);
    expect(sent[2]!.reply).toBe(sent[1]!.reply);
    answer(sent[2]!.reply, { stream: "S", seq: 2, duplicate: true });
    await expect(done).resolves.toEqual([1, 2]);
    publisher.close();
  });

  it("sends a retryable batch's unanswered messages again as soon as the connection is back, not a timeout later", async () => {
    const { nc, sent, answer, sendStatus } = fakeConnection();
    const publisher = new PipelinedPublisher(nc);
    const done = publisher.publish("s", [message("a"), message("b")], true);
    answer(sent[0]!.reply, { stream: "S", seq: 1 });
    sendStatus("disconnect");
    await vi.advanceTimersByTimeAsync(0);
    // sent while the connection is down: the client's buffer sends it on reconnect
    const buffered = publisher.publish("s", [message("c")], true);
    sendStatus("reconnect");
    await vi.advanceTimersByTimeAsync(0);
    expect(sent.map((s) => s.payload)).toEqual(["a", "b", "c", "b"]);
    answer(sent[3]!.reply, { stream: "S", seq: 2 });
    answer(sent[2]!.reply, { stream: "S", seq: 3 });
    await expect(done).resolves.toEqual([1, 2]);
    await expect(buffered).resolves.toEqual([3]);
    publisher.close();
  });

  it("fails a batch without message ids when an ack does not come", async () => {
    const { nc, sent, answer } = fakeConnection();
    const publisher = new PipelinedPublisher(nc);
    const done = publisher.publish("s", [message("a"), message("b")], false);
    const failed = done.catch((error: unknown) => error);
    answer(sent[0]!.reply, { stream: "S", seq: 1 });
    await vi.advanceTimersByTimeAsync(2000);
    const error = await failed;
    expect(error).toMatchObject({
      code: "SLUICE_TIMEOUT",
      message:
        "s: 1 of 2 messages unacknowledged: no acknowledgement came; they may or may not be stored",
    });
    expect((error as Error).cause).toBeInstanceOf(TimeoutError);
    expect(sent).toHaveLength(2);
  });

  it("gives up on a retryable batch at its deadline", async () => {
    const { nc } = fakeConnection();
    const publisher = new PipelinedPublisher(nc);
    const failed = publisher.publish("s", [message("a")], true).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(15_000);
    const error = await failed;
    expect(error).toMatchObject({ code: "SLUICE_TIMEOUT" });
    expect((error as Error).cause).toBeInstanceOf(TimeoutError);
  });

  it("sends a batch without message ids again after no responders when none of it was stored", async () => {
    const { nc, sent, answer } = fakeConnection();
    const publisher = new PipelinedPublisher(nc);
    const done = publisher.publish("s", [message("a"), message("b")], false);
    answer(sent[0]!.reply, undefined, 503);
    answer(sent[1]!.reply, undefined, 503);
    await vi.advanceTimersByTimeAsync(100);
    expect(sent.map((s) => s.payload)).toEqual(["a", "b", "a", "b"]);
    answer(sent[2]!.reply, { stream: "S", seq: 1 });
    answer(sent[3]!.reply, { stream: "S", seq: 2 });
    await expect(done).resolves.toEqual([1, 2]);
  });

  it("gives up on a batch without message ids, saying why, when part of it was stored before no responders", async () => {
    const { nc, sent, answer } = fakeConnection();
    const publisher = new PipelinedPublisher(nc);
    const done = publisher.publish("s", [message("a"), message("b")], false);
    answer(sent[1]!.reply, { stream: "S", seq: 7 });
    answer(sent[0]!.reply, undefined, 503);
    await expect(done).rejects.toMatchObject({
      code: "SLUICE_TIMEOUT",
      message:
        "s: 1 of 2 messages unacknowledged: no stream answered (it has no leader yet, or is gone); none of them was stored",
    });
    expect(sent).toHaveLength(2);
  });

  it("gives up on a batch without message ids refused whole until its deadline, saying it was sent again and not stored", async () => {
    const { nc, sent, answer } = fakeConnection();
    const publisher = new PipelinedPublisher(nc);
    const failed = publisher
      .publish("s", [message("a"), message("b")], false)
      .catch((error: unknown) => error);
    for (let answered = 0; answered < 400 && sent.length > answered;) {
      for (; answered < sent.length; answered++) answer(sent[answered]!.reply, undefined, 503);
      await vi.advanceTimersByTimeAsync(100);
    }
    const error = await failed;
    expect(sent.length).toBeGreaterThan(100); // every 100 ms for 15 s
    expect(error).toMatchObject({
      code: "SLUICE_TIMEOUT",
      message:
        "s: 2 of 2 messages unacknowledged: no stream answered (it has no leader yet, or is gone), sent again for 15 s; none of them was stored",
    });
  });

  it("waits a moment after no responders (no stream leader yet), then sends again", async () => {
    const { nc, sent, answer } = fakeConnection();
    const publisher = new PipelinedPublisher(nc);
    const done = publisher.publish("s", [message("a"), message("b")], true);
    answer(sent[0]!.reply, undefined, 503);
    await vi.advanceTimersByTimeAsync(50);
    answer(sent[1]!.reply, undefined, 503); // the same wait, not a new one
    await vi.advanceTimersByTimeAsync(49);
    expect(sent).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent.map((s) => s.payload)).toEqual(["a", "b", "a", "b"]);
    answer(sent[2]!.reply, { stream: "S", seq: 1 });
    answer(sent[3]!.reply, { stream: "S", seq: 2 });
    await expect(done).resolves.toEqual([1, 2]);
  });

  it("fails the batch with the stream's refusal once the other messages are answered, telling of those stored", async () => {
    const { nc, sent, answer } = fakeConnection();
    const publisher = new PipelinedPublisher(nc);
    const stored: Array<[number, number]> = [];
    let settled = false;
    const done = publisher.publish("s", [message("a"), message("b")], true, (i, seq) =>
      stored.push([i, seq]),
    );
    void done.catch(() => (settled = true));
    // The leader refuses the second at once; the first's ack waits for the replicas.
    answer(sent[1]!.reply, {
      error: { code: 400, err_code: 10054, description: "maximum message size exceeded" },
    });
    await Promise.resolve();
    expect(settled).toBe(false);
    answer(sent[0]!.reply, { stream: "S", seq: 7 });
    await expect(done).rejects.toBeInstanceOf(JetStreamApiError);
    await expect(done).rejects.toThrow(/maximum message size/);
    expect(stored).toEqual([[0, 7]]);
  });

  it("fails what is still waiting when closed", async () => {
    const { nc } = fakeConnection();
    const publisher = new PipelinedPublisher(nc);
    const done = publisher.publish("s", [message("a")], true);
    publisher.close();
    await expect(done).rejects.toThrow(/closed/);
  });
});

describe("storedSequence", () => {
  const bytes = (text: string) => Buffer.from(text);

  it("reads the sequence of a stored message's ack, first time or duplicate", () => {
    expect(storedSequence(bytes('{"stream":"S_T_ab_0","seq":123456}'))).toBe(123456);
    expect(storedSequence(bytes('{"stream":"S","seq":7,"duplicate":true}'))).toBe(7);
    expect(storedSequence(bytes('{"stream":"S","domain":"hub","seq":9}'))).toBe(9);
  });

  it("leaves anything else to the JSON parser", () => {
    const refusal =
      '{"error":{"code":400,"err_code":10071,"description":"wrong last sequence: \\"seq\\":3"}}';
    expect(storedSequence(bytes(refusal))).toBeUndefined();
    // A refusal can carry the stream's name and a zero sequence after its error.
    const withSequence =
      '{"error":{"code":400,"err_code":10060,"description":"expected stream does not match"},"stream":"S","seq":0}';
    expect(storedSequence(bytes(withSequence))).toBeUndefined();
    expect(storedSequence(bytes('{"stream":"S"}'))).toBeUndefined();
    expect(storedSequence(bytes('{"stream":"S","seq":}'))).toBeUndefined();
    expect(storedSequence(bytes('{"stream":"S","seq":12x}'))).toBeUndefined();
    expect(storedSequence(bytes(""))).toBeUndefined();
  });
});
