import { SluiceError } from "../../../errors/index.js";

/** Which language a pattern was written in; decides the message's opening words. */
export type PatternLanguage = "EventPattern" | "FilterPolicy";

const PREFIX: Record<PatternLanguage, string> = {
  EventPattern: "Event pattern is not valid. Reason: ",
  FilterPolicy: "Invalid parameter: FilterPolicy: ",
};

/**
 * A malformed event pattern or filter policy. `field` is the path inside the pattern
 * (`detail.state[1].prefix`), `operator` the operator at fault when there is one; the message
 * opens as EventBridge's or SNS's does.
 */
export class PatternError extends SluiceError {
  constructor(
    readonly language: PatternLanguage,
    readonly path: string,
    reason: string,
    readonly operator?: string,
  ) {
    super("SLUICE_VALIDATION", `${PREFIX[language]}${path === "" ? "" : `${path}: `}${reason}`, {
      field: path,
      details: operator === undefined ? { language } : { language, operator },
    });
  }
}
