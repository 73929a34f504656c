/** True when a value typed as a list really is an array (input from JavaScript callers may not be). */
export function isList<T>(value: readonly T[]): boolean {
  const unknownValue: unknown = value;
  return Array.isArray(unknownValue);
}
