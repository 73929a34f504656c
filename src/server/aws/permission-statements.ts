/**
 * Access-policy editing as SNS's and SQS's AddPermission / RemovePermission do it: one
 * statement per label (its Sid), granting accounts some actions on one resource. The policy is
 * stored, never enforced; this only keeps the document what AWS would show.
 */

/** An access policy document, as far as permission edits read it. */
export interface PolicyDocument {
  Statement: unknown[];
  [key: string]: unknown;
}

export interface Grant {
  readonly label: string;
  /** Account ids, each made the principal `arn:aws:iam::<id>:root`. */
  readonly accountIds: readonly string[];
  /** Action names with their service prefix (`SNS:Publish`, `SQS:SendMessage`). */
  readonly actions: readonly string[];
  readonly resource: string;
}

/**
 * Reads a stored policy for editing; `empty` when none is stored. A lone statement object (a
 * valid policy form) becomes a list of one.
 */
export function policyForEdit(
  text: string | undefined,
  empty: () => PolicyDocument,
): PolicyDocument {
  if (text === undefined || text === "") return empty();
  const parsed = JSON.parse(text) as Record<string, unknown>;
  const statement: unknown = parsed.Statement;
  const statements: unknown[] = Array.isArray(statement)
    ? (statement as unknown[]).slice()
    : statement === undefined
      ? []
      : [statement];
  return { ...parsed, Statement: statements };
}

/** Whether the policy has a statement whose Sid is `label`. */
export function hasStatement(policy: PolicyDocument, label: string): boolean {
  return policy.Statement.some((s) => sidOf(s) === label);
}

/** The policy with the grant's statement appended (a one-element list is written bare, as AWS does). */
export function withGrant(policy: PolicyDocument, grant: Grant): PolicyDocument {
  const principals = grant.accountIds.map((id) => `arn:aws:iam::${id}:root`);
  const statement = {
    Sid: grant.label,
    Effect: "Allow",
    Principal: { AWS: bareIfOne(principals) },
    Action: bareIfOne([...grant.actions]),
    Resource: grant.resource,
  };
  return { ...policy, Statement: [...policy.Statement, statement] };
}

/** The policy without the statements whose Sid is `label`. */
export function withoutGrant(policy: PolicyDocument, label: string): PolicyDocument {
  return { ...policy, Statement: policy.Statement.filter((s) => sidOf(s) !== label) };
}

function sidOf(statement: unknown): unknown {
  return typeof statement === "object" && statement !== null
    ? (statement as { Sid?: unknown }).Sid
    : undefined;
}

function bareIfOne(values: string[]): string | string[] {
  return values.length === 1 ? values[0]! : values;
}
