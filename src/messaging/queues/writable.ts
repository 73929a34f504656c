/** `T` with its readonly fields writable, for building a readonly result field by field. */
export type Writable<T> = { -readonly [K in keyof T]: T[K] };
