import { FieldMachine } from "./field-machine.js";
import type { PathNode } from "./path-node.js";

/**
 * A state of the shared automaton. Each state stands for one sequence of conditions, the one
 * on the way to it from the start state; reaching it means all of them hold for the event.
 * Pattern alternatives that begin with the same conditions share the states of that beginning,
 * so a hundred rules on `source: shop.orders` take that step once. A state's transitions are
 * grouped by field path, one `FieldMachine` per path, whose operators lead to the next states.
 */
export class MatchState {
  /** The state each next condition (by its key) leads to; used while building. */
  readonly next = new Map<string, MatchState>();
  /** The patterns (by owner number) whose alternative ends here: reaching the state matches. */
  readonly owners: number[] = [];
  /** The transitions: `fields[i]` looks up the values recorded at `paths[i]`. */
  readonly paths: PathNode[] = [];
  readonly fields: FieldMachine[] = [];
  private readonly byPath = new Map<PathNode, FieldMachine>();

  constructor(readonly id: number) {}

  /** The field machine of the transitions on `path`, created on first use. */
  fieldFor(path: PathNode): FieldMachine {
    let field = this.byPath.get(path);
    if (field === undefined) {
      field = new FieldMachine();
      this.byPath.set(path, field);
      this.paths.push(path);
      this.fields.push(field);
    }
    return field;
  }

  /** Marks the pattern numbered `owner` as matched by every event that reaches this state. */
  addOwner(owner: number): void {
    if (this.owners[this.owners.length - 1] !== owner) this.owners.push(owner);
  }
}
