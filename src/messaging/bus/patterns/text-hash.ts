/**
 * Extends a hash of text by one character (a UTF-16 code unit). Kept within small integers, so
 * that Map keys stay unboxed; lookups compute it over text in place, without cutting it out.
 */
export function extendHash(hash: number, c: number): number {
  return (Math.imul(hash, 31) + c) & 0x3fffffff;
}

/** The hash of all of `text`, as `extendHash` builds it character by character. */
export function hashOf(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = extendHash(hash, text.charCodeAt(i));
  return hash;
}
