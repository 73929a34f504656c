import { MessageAttributeSet } from "../message-attribute-set.js";

/** Message attributes of both kinds, for header tests. */
export const attributes = MessageAttributeSet.of({
  kind: { DataType: "String", StringValue: "order" },
  blob: { DataType: "Binary", BinaryValue: Uint8Array.of(0, 255) },
})!;

/** The one message system attribute SQS has. */
export const trace = MessageAttributeSet.of({
  AWSTraceHeader: { DataType: "String", StringValue: "Root=1-abc" },
})!;
