import {
  type FileSystem,
  type FsyncPolicy,
  type Log,
  type RecordInput,
  openLog,
} from "../../engine/index.js";
import { SluiceError } from "../../errors/index.js";
import type { JsonValue } from "../event-store.js";
import type { Clock } from "../../time/index.js";
import type { ReadModel, ReadModelWrites } from "./projection.js";

export interface EmbeddedReadModelOptions {
  readonly fsync?: FsyncPolicy;
  readonly clock?: Clock;
  readonly fs?: FileSystem;
}

// The checkpoint's key cannot clash with a document key: documents are UTF-8 text keys and
// this one starts with a NUL byte.
const CHECKPOINT_KEY = Buffer.from([0, 0x63, 0x70]);

/**
 * A key-value read model on a compacted engine log: each commit is one batch holding the
 * written documents (a null value deletes) and the new checkpoint, so a crash keeps a commit
 * whole or drops it whole. The documents are held in memory and rebuilt on open.
 */
export class EmbeddedReadModel implements ReadModel {
  private readonly documents = new Map<string, JsonValue>();
  private position = -1;

  private constructor(private readonly log: Log) {}

  /** Opens (creating if needed) the read model stored in `dir`. */
  static async open(
    dir: string,
    options: EmbeddedReadModelOptions = {},
  ): Promise<EmbeddedReadModel> {
    const log = await openLog(dir, {
      cleanupPolicy: "compact",
      segmentBytes: 16 * 1024 * 1024,
      ...(options.fsync === undefined ? {} : { fsync: options.fsync }),
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      ...(options.fs === undefined ? {} : { fs: options.fs }),
    });
    const model = new EmbeddedReadModel(log);
    for (let at = log.logStartOffset; at < log.logEndOffset;) {
      const records = log.read(at, { maxRecords: 10_000, maxBytes: 8 * 1024 * 1024 });
      if (records.length === 0) break;
      for (const r of records) {
        if (r.key === null) continue;
        if (r.key.equals(CHECKPOINT_KEY)) model.position = Number(r.value?.toString() ?? -1);
        else if (r.value === null) model.documents.delete(r.key.toString());
        else model.documents.set(r.key.toString(), JSON.parse(r.value.toString()) as JsonValue);
      }
      at = records[records.length - 1]!.offset + 1;
    }
    return model;
  }

  get(key: string): Promise<JsonValue | undefined> {
    return Promise.resolve(this.documents.get(key));
  }

  entries(): Promise<[string, JsonValue][]> {
    return Promise.resolve([...this.documents].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  checkpoint(): Promise<number> {
    return Promise.resolve(this.position);
  }

  async commit(writes: ReadModelWrites, checkpoint: number): Promise<void> {
    if (this.log.isClosed) throw new SluiceError("SLUICE_CLOSED", "the read model is closed");
    const records: RecordInput[] = [];
    for (const [key, value] of writes)
      records.push({
        key: Buffer.from(key),
        value: value === null ? null : Buffer.from(JSON.stringify(value)),
      });
    records.push({ key: CHECKPOINT_KEY, value: Buffer.from(String(checkpoint)) });
    await this.log.append(records);
    for (const [key, value] of writes)
      if (value === null) this.documents.delete(key);
      else this.documents.set(key, value);
    this.position = checkpoint;
  }

  /** Forgets every document: the log start moves past them and the checkpoint goes back to -1. */
  async reset(): Promise<void> {
    await this.log.deleteRecordsBefore(this.log.logEndOffset);
    await this.log.append([{ key: CHECKPOINT_KEY, value: Buffer.from("-1") }]);
    this.documents.clear();
    this.position = -1;
  }

  close(): Promise<void> {
    return this.log.close();
  }
}
