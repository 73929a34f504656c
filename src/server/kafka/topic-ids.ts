import { createHash } from "node:crypto";

/**
 * Kafka topic ids (KIP-516) for Sluice topics, which have none of their own: a UUID derived from
 * the topic's name (SHA-256, with the version 8 and variant bits set), so every connection and
 * every restart sees the same id, and it is never the zero UUID Kafka reserves for "none". A
 * topic deleted and created again under the same name keeps its id (a Kafka broker would give
 * it a new one).
 */
export function topicIdOf(name: string): Buffer {
  let id = ids.get(name);
  if (id === undefined) {
    id = createHash("sha256").update(name, "utf8").digest().subarray(0, 16);
    id[6] = (id[6]! & 0x0f) | 0x80; // version 8: a custom UUID
    id[8] = (id[8]! & 0x3f) | 0x80; // the RFC 9562 variant
    if (ids.size >= MAX_REMEMBERED) ids.clear();
    ids.set(name, id);
  }
  return id;
}

/** The topic among `names` whose id is `id`, if any. */
export function topicNamed(id: Buffer, names: Iterable<string>): string | undefined {
  for (const name of names) if (topicIdOf(name).equals(id)) return name;
  return undefined;
}

const MAX_REMEMBERED = 10_000;
const ids = new Map<string, Buffer>();
