import { deepStrictEqual } from "node:assert/strict";
import { randomUUID } from "node:crypto";
import type { EventData, RecordedEvent } from "../event-store.js";
import type { Aggregate } from "./aggregate.js";

/** What a Given/When/Then test checks after `when`. */
export interface CommandOutcome {
  /** Asserts the command decided exactly these events (type, data; metadata if given). */
  thenEmits(expected: readonly EventData[]): void;
  /** Asserts the command decided nothing. */
  thenNothing(): void;
  /** Asserts `decide` threw; `check` may inspect the error (throw to fail). */
  thenFails(check?: (error: unknown) => void): void;
}

/**
 * Given/When/Then for aggregates, without a store: `given(agg, pastEvents).when(command)
 * .thenEmits(events)`. Past events become recorded events of a test stream, in order.
 */
export function given<State, Command>(
  aggregate: Aggregate<State, Command>,
  history: readonly EventData[] = [],
): { when(command: Command): CommandOutcome; state(): State } {
  const fold = (): State =>
    history.reduce<State>(
      (state, event, i) => aggregate.evolve(state, recorded(event, i)),
      aggregate.initialState(),
    );
  return {
    state: fold,
    when(command) {
      let decided: readonly EventData[] | undefined;
      let failure: { error: unknown } | undefined;
      try {
        decided = aggregate.decide(command, fold());
      } catch (error) {
        failure = { error };
      }
      const emitted = (): readonly EventData[] => {
        if (failure !== undefined)
          throw new Error(`expected events, but decide threw: ${String(failure.error)}`);
        return decided!;
      };
      return {
        thenEmits(expected) {
          const actual = emitted().map((e) => comparable(e, expected));
          deepStrictEqual(
            actual,
            expected.map((e) => comparable(e, expected)),
          );
        },
        thenNothing() {
          deepStrictEqual(emitted().length, 0, "expected no events");
        },
        thenFails(check) {
          if (failure === undefined)
            throw new Error(`expected decide to throw, but it emitted ${JSON.stringify(decided)}`);
          check?.(failure.error);
        },
      };
    },
  };
}

function comparable(event: EventData, expected: readonly EventData[]): object {
  const withMetadata = expected.some((e) => e.metadata !== undefined);
  return {
    type: event.type,
    data: JSON.parse(JSON.stringify(event.data)) as unknown,
    ...(withMetadata ? { metadata: event.metadata ?? {} } : {}),
  };
}

function recorded(event: EventData, version: number): RecordedEvent {
  return {
    id: event.id ?? randomUUID(),
    stream: "given",
    type: event.type,
    schemaVersion: event.schemaVersion ?? 1,
    data: event.data,
    metadata: event.metadata ?? {},
    version,
    position: version,
    timestamp: 0,
  };
}
