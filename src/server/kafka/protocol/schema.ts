// The shape of a transcribed Kafka message schema. Field attributes keep Kafka's own spelling
// (version ranges such as "3+", "0-4" or "none"; types such as "int32", "[]Topic", "records")
// so a table can be checked against its source by eye.

/** One field of a Kafka message, as its schema declares it. */
export interface FieldSchema {
  /** The field name in camelCase (Kafka spells it in PascalCase). */
  readonly name: string;
  /** Kafka's type: a primitive, `[]Type` for an array, or a struct name with `fields`. */
  readonly type: string;
  readonly versions: string;
  readonly nullableVersions?: string;
  readonly taggedVersions?: string;
  readonly tag?: number;
  /** Overrides the message's flexible versions for this field ("none" for the header's client id). */
  readonly flexibleVersions?: string;
  readonly default?: string;
  readonly fields?: readonly FieldSchema[];
}

/** A request, response or header schema. */
export interface MessageSchema {
  readonly validVersions: string;
  readonly flexibleVersions: string;
  readonly fields: readonly FieldSchema[];
}

/** One Kafka API: its key, name and the schemas of its request and response. */
export interface ApiSchema {
  readonly apiKey: number;
  readonly name: string;
  readonly request: MessageSchema;
  readonly response: MessageSchema;
}
