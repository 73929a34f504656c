import { describe, expect, it } from "vitest";
import { TopicAddresses } from "./pubsub/topic-address.js";
import { QueueAddresses } from "./queues/queue-address.js";

describe("a base URL given as a function", () => {
  it("is asked each time a URL is made, so a server that picks its port when it listens names it", () => {
    let base = "http://localhost:0";
    const queues = new QueueAddresses({ baseUrl: () => base });
    const topics = new TopicAddresses({ baseUrl: () => base });
    expect(queues.url("q")).toBe("http://localhost:0/000000000000/q");
    base = "http://localhost:41234/";
    expect(queues.url("q")).toBe("http://localhost:41234/000000000000/q");
    expect(topics.unsubscribeUrl("arn:aws:sns:us-east-1:000000000000:t:1")).toMatch(
      /^http:\/\/localhost:41234\/\?Action=Unsubscribe&/,
    );
  });

  it("and a plain string loses its trailing slashes as before", () => {
    expect(new QueueAddresses({ baseUrl: "http://h:1//" }).url("q")).toBe(
      "http://h:1/000000000000/q",
    );
  });
});
