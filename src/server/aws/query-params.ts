import { malformedRequest } from "./aws-error.js";
import { setOwnEntry } from "../../messaging/own-entry.js";

const INDEX = /^[1-9]\d{0,5}$/;

/**
 * The parameters of an AWS query-protocol request (`Action=...&Attribute.1.Name=...`), read
 * the way the protocol nests them: numbered lists (`Name.1`, `Name.2`), lists of structures
 * (`Entry.1.Id`) and maps (`Attribute.1.Name` / `Attribute.1.Value`).
 */
export class QueryParams {
  private constructor(private readonly params: ReadonlyMap<string, string>) {}

  /** Parses a form-encoded body or query string; a key given twice is malformed. */
  static parse(form: string): QueryParams {
    const params = new Map<string, string>();
    for (const [key, value] of new URLSearchParams(form)) {
      if (params.has(key)) throw malformedRequest(`parameter ${key} is given more than once`);
      params.set(key, value);
    }
    return new QueryParams(params);
  }

  static of(entries: Record<string, string>): QueryParams {
    return new QueryParams(new Map(Object.entries(entries)));
  }

  get size(): number {
    return this.params.size;
  }

  string(name: string): string | undefined {
    return this.params.get(name);
  }

  /** An integer parameter; text that is not one is passed on as text for the service to refuse. */
  number(name: string): number | string | undefined {
    const value = this.params.get(name);
    if (value === undefined) return undefined;
    return /^-?\d{1,15}$/.test(value) ? Number(value) : value;
  }

  /** `prefix.1`, `prefix.2`, ... in index order. */
  list(prefix: string): string[] {
    return this.numbered(prefix)
      .map(([, sub]) => sub.params.get(""))
      .filter((v): v is string => v !== undefined);
  }

  /**
   * A message attribute value, `DataType`, `StringValue` and `BinaryValue` (base64, decoded by
   * `decodeBinary`, which answers bad text in its protocol's own error), those given.
   */
  attributeValue(decodeBinary: (base64: string) => Uint8Array): {
    DataType?: string;
    StringValue?: string;
    BinaryValue?: Uint8Array;
  } {
    const DataType = this.string("DataType");
    const StringValue = this.string("StringValue");
    const binary = this.string("BinaryValue");
    return {
      ...(DataType === undefined ? {} : { DataType }),
      ...(StringValue === undefined ? {} : { StringValue }),
      ...(binary === undefined ? {} : { BinaryValue: decodeBinary(binary) }),
    };
  }

  /** The structures `prefix.N.*`, each as its own parameters, in index order. */
  structures(prefix: string): QueryParams[] {
    return this.numbered(prefix).map(([, sub]) => sub);
  }

  /** A map sent as `prefix.N.<keyName>` / `prefix.N.<valueName>`. */
  map(prefix: string, keyName: string, valueName: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const entry of this.structures(prefix)) {
      const key = entry.string(keyName);
      if (key === undefined) throw malformedRequest(`${prefix}: an entry has no ${keyName}`);
      setOwnEntry(out, key, entry.string(valueName) ?? "");
    }
    return out;
  }

  /** Whether any parameter is `prefix` or starts with `prefix.`. */
  has(prefix: string): boolean {
    for (const key of this.params.keys())
      if (key === prefix || key.startsWith(`${prefix}.`)) return true;
    return false;
  }

  /** The parameters under `prefix.` with the prefix removed. */
  under(prefix: string): QueryParams {
    const sub = new Map<string, string>();
    const start = `${prefix}.`;
    for (const [key, value] of this.params)
      if (key.startsWith(start)) sub.set(key.slice(start.length), value);
    return new QueryParams(sub);
  }

  private numbered(prefix: string): [number, QueryParams][] {
    const groups = new Map<number, Map<string, string>>();
    const start = `${prefix}.`;
    for (const [key, value] of this.params) {
      if (!key.startsWith(start)) continue;
      const rest = key.slice(start.length);
      const dot = rest.indexOf(".");
      const indexText = dot < 0 ? rest : rest.slice(0, dot);
      if (!INDEX.test(indexText))
        throw malformedRequest(`${key}: expected ${prefix}.<n> with n from 1`);
      const index = Number(indexText);
      let group = groups.get(index);
      if (group === undefined) groups.set(index, (group = new Map<string, string>()));
      group.set(dot < 0 ? "" : rest.slice(dot + 1), value);
    }
    return [...groups]
      .sort(([a], [b]) => a - b)
      .map(([index, group]) => [index, new QueryParams(group)]);
  }
}
