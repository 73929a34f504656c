import { describe, expect, it } from "vitest";
import type { BusEvent } from "./event-bus-service.js";
import { compileTargetInput, transformInput } from "./input-transformer.js";
import { parseJsonPath } from "./json-path.js";

const event: BusEvent = {
  version: "0",
  id: "7bf73129-1428-4cd3-a780-95db273d1602",
  "detail-type": "EC2 Instance State-change Notification",
  source: "aws.ec2",
  account: "123456789012",
  time: "2015-11-11T21:29:54Z",
  region: "us-east-1",
  resources: ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
  detail: { "instance-id": "i-0123456789", state: "RUNNING", tags: { a: 1 } },
};
const context = {
  ruleArn: "arn:aws:events:us-east-1:0:rule/r",
  ruleName: "r",
  ingestionTime: "2015-11-11T21:29:55Z",
};
const run = (target: Parameters<typeof compileTargetInput>[0]): unknown =>
  transformInput(compileTargetInput(target, "Targets[0]"), event, context);

describe("target input", () => {
  it("sends the whole event by default, a constant with Input, a part with InputPath", () => {
    expect(run({ Id: "t", Arn: "x" })).toBe(event);
    expect(run({ Id: "t", Arn: "x", Input: '{"fixed":true}' })).toEqual({ fixed: true });
    expect(run({ Id: "t", Arn: "x", InputPath: "$.detail.state" })).toBe("RUNNING");
    expect(run({ Id: "t", Arn: "x", InputPath: "$.resources[0]" })).toBe(event.resources[0]);
    expect(run({ Id: "t", Arn: "x", InputPath: "$.detail['instance-id']" })).toBe("i-0123456789");
  });

  it("fills a JSON template: variables in strings as text, elsewhere as JSON (EventBridge's examples)", () => {
    const InputPathsMap = {
      instance: "$.detail.instance-id",
      state: "$.detail.state",
      tags: "$.detail.tags",
    };
    expect(
      run({
        Id: "t",
        Arn: "x",
        InputTransformer: {
          InputPathsMap,
          InputTemplate:
            '{"instance": <instance>, "message": "<instance> is <state>", "tags": <tags>, "rule": "<aws.events.rule-name>", "missing": <nope>}'.replace(
              ', "missing": <nope>',
              "",
            ),
        },
      }),
    ).toEqual({
      instance: "i-0123456789",
      message: "i-0123456789 is RUNNING",
      tags: { a: 1 },
      rule: "r",
    });
  });

  it("fills a text template and the predefined variables", () => {
    expect(
      run({
        Id: "t",
        Arn: "x",
        InputTransformer: {
          InputPathsMap: { state: "$.detail.state" },
          InputTemplate: "instance state is <state> at <aws.events.event.ingestion-time>",
        },
      }),
    ).toBe("instance state is RUNNING at 2015-11-11T21:29:55Z");
    expect(
      run({
        Id: "t",
        Arn: "x",
        InputTransformer: { InputTemplate: '{"original": <aws.events.event.json>}' },
      }),
    ).toEqual({ original: event });
  });

  it("refuses bad settings, naming the field", () => {
    const fieldOf = (target: Parameters<typeof compileTargetInput>[0]): string | undefined => {
      try {
        compileTargetInput(target, "Targets[0]");
      } catch (error) {
        return (error as { field?: string }).field;
      }
      return "accepted";
    };
    expect(fieldOf({ Id: "t", Arn: "x", Input: "{bad" })).toBe("Targets[0].Input");
    expect(fieldOf({ Id: "t", Arn: "x", Input: "1", InputPath: "$" })).toBe("Targets[0]");
    expect(fieldOf({ Id: "t", Arn: "x", InputPath: "detail" })).toBe("Targets[0].InputPath");
    expect(fieldOf({ Id: "t", Arn: "x", InputTransformer: { InputTemplate: "<x>" } })).toBe(
      "Targets[0].InputTransformer.InputTemplate",
    );
    expect(
      fieldOf({
        Id: "t",
        Arn: "x",
        InputTransformer: { InputPathsMap: { x: "$.a..b" }, InputTemplate: "<x>" },
      }),
    ).toBe("Targets[0].InputTransformer.InputPathsMap.x");
    expect(
      fieldOf({
        Id: "t",
        Arn: "x",
        InputTransformer: { InputPathsMap: { "aws.x": "$.a" }, InputTemplate: "a" },
      }),
    ).toBe("Targets[0].InputTransformer.InputPathsMap.aws.x");
  });

  it("JSONPath parses dots, quoted names and indexes", () => {
    expect(parseJsonPath("$", "f")).toEqual([]);
    expect(parseJsonPath("$.a.b[2]['c.d']", "f")).toEqual(["a", "b", 2, "c.d"]);
  });
});
