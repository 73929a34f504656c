import type { Notification, PubSubMessageAttributes } from "./pubsub-service.js";

/** A notification as JSON: binary attribute values as base64 text. */
export function notificationToJson(notification: Notification): unknown {
  const attributes = Object.entries(notification.MessageAttributes);
  if (!attributes.some(([, value]) => value.BinaryValue !== undefined)) return notification;
  return {
    ...notification,
    MessageAttributes: Object.fromEntries(
      attributes.map(([key, value]) => [
        key,
        value.BinaryValue === undefined
          ? value
          : { ...value, BinaryValue: Buffer.from(value.BinaryValue).toString("base64") },
      ]),
    ),
  };
}

/** The notification `notificationToJson` wrote, with its binary values as Buffers again. */
export function notificationFromJson(json: unknown): Notification {
  const notification = json as Notification;
  const attributes = notification.MessageAttributes as Record<
    string,
    { DataType: string; StringValue?: string; BinaryValue?: unknown }
  >;
  const decoded: PubSubMessageAttributes = Object.fromEntries(
    Object.entries(attributes ?? {}).map(([key, value]) => [
      key,
      typeof value.BinaryValue === "string"
        ? { ...value, BinaryValue: Buffer.from(value.BinaryValue, "base64") }
        : (value as PubSubMessageAttributes[string]),
    ]),
  );
  return { ...notification, MessageAttributes: decoded };
}
