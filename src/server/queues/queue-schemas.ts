/** JSON Schemas of the queue REST routes (also the OpenAPI document's). */

const stringMap = { type: "object", additionalProperties: { type: "string" } } as const;

const attributeValue = {
  type: "object",
  required: ["DataType"],
  properties: {
    DataType: { type: "string" },
    StringValue: { type: "string" },
    BinaryValue: { type: "string", description: "base64" },
  },
} as const;

const messageAttributes = { type: "object", additionalProperties: attributeValue } as const;

const sendFields = {
  MessageBody: { type: "string" },
  DelaySeconds: { type: "integer" },
  MessageAttributes: messageAttributes,
  MessageSystemAttributes: messageAttributes,
  MessageGroupId: { type: "string" },
  MessageDeduplicationId: { type: "string" },
} as const;

const names = { type: "array", items: { type: "string" } } as const;

export const queueName = {
  type: "object",
  required: ["name"],
  properties: { name: { type: "string" } },
} as const;

const failed = {
  type: "array",
  items: {
    type: "object",
    properties: {
      Id: { type: "string" },
      SenderFault: { type: "boolean" },
      Code: { type: "string" },
      Message: { type: "string" },
    },
  },
} as const;

export const schemas = {
  createQueue: {
    type: "object",
    required: ["QueueName"],
    properties: { QueueName: { type: "string" }, Attributes: stringMap, tags: stringMap },
  },
  listQueues: {
    type: "object",
    properties: {
      QueueNamePrefix: { type: "string" },
      MaxResults: { type: "integer" },
      NextToken: { type: "string" },
    },
  },
  attributeNames: {
    type: "object",
    properties: { AttributeNames: { type: "string", description: "comma-separated; default All" } },
  },
  setAttributes: {
    type: "object",
    required: ["Attributes"],
    properties: { Attributes: stringMap },
  },
  tags: { type: "object", required: ["Tags"], properties: { Tags: stringMap } },
  tagKeys: { type: "object", required: ["TagKeys"], properties: { TagKeys: names } },
  send: { type: "object", properties: sendFields },
  sendBatch: {
    type: "object",
    required: ["Entries"],
    properties: {
      Entries: {
        type: "array",
        items: { type: "object", properties: { Id: { type: "string" }, ...sendFields } },
      },
    },
  },
  receive: {
    type: "object",
    properties: {
      MaxNumberOfMessages: { type: "integer" },
      VisibilityTimeout: { type: "integer" },
      WaitTimeSeconds: { type: "integer" },
      MessageSystemAttributeNames: names,
      AttributeNames: names,
      MessageAttributeNames: names,
      ReceiveRequestAttemptId: { type: "string" },
    },
  },
  receiptHandle: {
    type: "object",
    required: ["ReceiptHandle"],
    properties: { ReceiptHandle: { type: "string" } },
  },
  deleteBatch: {
    type: "object",
    required: ["Entries"],
    properties: {
      Entries: {
        type: "array",
        items: {
          type: "object",
          properties: { Id: { type: "string" }, ReceiptHandle: { type: "string" } },
        },
      },
    },
  },
  visibility: {
    type: "object",
    required: ["ReceiptHandle", "VisibilityTimeout"],
    properties: { ReceiptHandle: { type: "string" }, VisibilityTimeout: { type: "integer" } },
  },
  visibilityBatch: {
    type: "object",
    required: ["Entries"],
    properties: {
      Entries: {
        type: "array",
        items: {
          type: "object",
          properties: {
            Id: { type: "string" },
            ReceiptHandle: { type: "string" },
            VisibilityTimeout: { type: "integer" },
          },
        },
      },
    },
  },
  peek: {
    type: "object",
    properties: {
      MaxNumberOfMessages: { type: "integer" },
      AfterSequenceNumber: { type: "string" },
    },
  },
  startMoveTask: {
    type: "object",
    required: ["SourceArn"],
    properties: {
      SourceArn: { type: "string" },
      DestinationArn: { type: "string" },
      MaxNumberOfMessagesPerSecond: { type: "integer" },
    },
  },
  listMoveTasks: {
    type: "object",
    required: ["SourceArn"],
    properties: { SourceArn: { type: "string" }, MaxResults: { type: "integer" } },
  },
  taskHandle: {
    type: "object",
    required: ["TaskHandle"],
    properties: { TaskHandle: { type: "string" } },
  },
  queueUrl: { type: "object", properties: { QueueUrl: { type: "string" } } },
  batchResult: {
    type: "object",
    properties: { Successful: { type: "array", items: { type: "object" } }, Failed: failed },
  },
} as const;
