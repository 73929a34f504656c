import { describe, expect, it } from "vitest";
import { REQUEST_FIELDS } from "./entry-fields.js";
import { SEND_SETTINGS, prepareForQueue, type QueueSendInput } from "./prepared-send.js";
import { defaultAttributes, parseConfig, type QueueConfig } from "./queue-attributes.js";

/** The settings of `config` that `run` reads. */
function settingsRead(config: QueueConfig, run: (config: QueueConfig) => unknown): Set<string> {
  const read = new Set<string>();
  const watched = new Proxy(config, {
    get(target, name, receiver) {
      if (typeof name === "string") read.add(name);
      return Reflect.get(target, name, receiver) as unknown;
    },
  });
  try {
    run(watched);
  } catch {
    // A refusal reads settings too.
  }
  return read;
}

describe("prepareForQueue", () => {
  it("reads the settings SEND_SETTINGS names and no other", () => {
    const standard = parseConfig(defaultAttributes(false));
    const fifo = parseConfig(defaultAttributes(true));
    const configs: QueueConfig[] = [
      standard,
      { ...standard, delaySeconds: 5, maximumMessageSize: 1024 },
      fifo,
      { ...fifo, contentBasedDeduplication: true },
    ];
    // Every branch: with and without a delay, group and deduplication id, small and large.
    const inputs: QueueSendInput[] = [
      {},
      { DelaySeconds: 3 },
      { MessageGroupId: "g" },
      { MessageGroupId: "g", MessageDeduplicationId: "d" },
      { MessageDeduplicationId: "d" },
    ];
    const read = new Set<string>();
    for (const config of configs)
      for (const input of inputs)
        for (const body of ["small", "x".repeat(2000)]) {
          const content = { body, sizeBytes: body.length, attributes: undefined };
          for (const name of settingsRead(config, (c) =>
            prepareForQueue(c, content, input, REQUEST_FIELDS),
          ))
            read.add(name);
        }
    expect([...read].sort()).toEqual([...SEND_SETTINGS].sort());
  });
});
