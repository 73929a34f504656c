import { SluiceError } from "../../../errors/index.js";

/** Bytes that do not form a valid Kafka message; `field` names where decoding stopped. */
export class KafkaProtocolError extends SluiceError {
  constructor(field: string, expected: string) {
    super("SLUICE_VALIDATION", `${field}: expected ${expected}`, { field });
  }

  /** The same error with an outer field name prefixed to its path. */
  within(outer: string): KafkaProtocolError {
    const inner = this.field ?? "";
    const path =
      inner === "" ? outer : inner.startsWith("[") ? `${outer}${inner}` : `${outer}.${inner}`;
    return new KafkaProtocolError(
      path,
      this.message.slice(this.message.indexOf(": expected ") + 11),
    );
  }
}
