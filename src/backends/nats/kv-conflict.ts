/**
 * The bucket refused a write made on a revision because the value changed since it was read
 * (`kv.update`), or a create because the key exists (`kv.create`).
 */
export function isConflict(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /wrong last sequence|key exists|10071/i.test(message);
}
