import type { Aggregate } from "../aggregates/aggregate.js";

/** A bank account: the aggregate the event-store tests and docs use. */
export interface Account {
  readonly balance: number;
  readonly overdraftLimit: number;
  readonly transactions: number;
}

export type AccountCommand =
  | { readonly kind: "open"; readonly overdraftLimit: number }
  | { readonly kind: "deposit"; readonly amount: number }
  | { readonly kind: "withdraw"; readonly amount: number };

export class InsufficientFunds extends Error {}

export const bankAccount: Aggregate<Account, AccountCommand> = {
  initialState: () => ({ balance: 0, overdraftLimit: 0, transactions: 0 }),
  evolve(state, event) {
    const data = event.data as { amount?: number; overdraftLimit?: number };
    switch (event.type) {
      case "Opened":
        return { ...state, overdraftLimit: data.overdraftLimit ?? 0 };
      case "Deposited":
        return {
          ...state,
          balance: state.balance + data.amount!,
          transactions: state.transactions + 1,
        };
      case "Withdrawn":
        return {
          ...state,
          balance: state.balance - data.amount!,
          transactions: state.transactions + 1,
        };
      default:
        return state;
    }
  },
  decide(command, state) {
    switch (command.kind) {
      case "open":
        return [{ type: "Opened", data: { overdraftLimit: command.overdraftLimit } }];
      case "deposit":
        return [{ type: "Deposited", data: { amount: command.amount } }];
      case "withdraw":
        if (state.balance - command.amount < -state.overdraftLimit)
          throw new InsufficientFunds(`balance ${state.balance}, asked ${command.amount}`);
        return [{ type: "Withdrawn", data: { amount: command.amount } }];
    }
  },
};
