/**
 * Adds `name: value` to a record keyed by names from callers (message attributes, tags). A plain
 * assignment with the name "__proto__" (a valid attribute or tag name) would set the record's
 * prototype instead of adding an entry: the entry would be accepted and then lost.
 */
export function setOwnEntry<T>(record: Record<string, T>, name: string, value: T): void {
  if (name === "__proto__")
    Object.defineProperty(record, name, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  else record[name] = value;
}
