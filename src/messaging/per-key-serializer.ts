/**
 * Runs calls for the same key one after another (calls for other keys run freely): a
 * read-modify-write of one resource's attribute, such as a permission edit of its policy,
 * then never loses a concurrent edit made through this server.
 */
export class PerKeySerializer {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, call: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(call, call);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}

const byOwner = new WeakMap<object, PerKeySerializer>();

/** The serializer of `owner` (a service: all its callers share one), made on first use. */
export function serializerOf(owner: object): PerKeySerializer {
  let serializer = byOwner.get(owner);
  if (serializer === undefined) byOwner.set(owner, (serializer = new PerKeySerializer()));
  return serializer;
}
