/** Escapes text for an XML element or attribute (also the characters SQS bodies may carry). */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"'\r]/g, (c) => ESCAPES[c]!);
}

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
  // A bare CR would be normalised to LF by XML parsers; SQS bodies keep it.
  "\r": "&#13;",
};

/** A value an XML element can hold: text, a number or boolean, nested elements, or a list. */
export type XmlValue =
  string | number | boolean | XmlElement | readonly (string | XmlElement)[] | undefined;
export interface XmlElement {
  readonly [name: string]: XmlValue;
}

/**
 * Writes elements in key order; an array writes its items as repeated elements of the key's
 * name (the "flattened" lists of the AWS query protocol); undefined values are left out.
 */
export function toXml(element: XmlElement): string {
  let out = "";
  for (const [name, value] of Object.entries(element)) {
    if (value === undefined) continue;
    if (Array.isArray(value))
      for (const item of value as readonly (string | XmlElement)[])
        out += `<${name}>${typeof item === "string" ? escapeXml(item) : toXml(item)}</${name}>`;
    else if (typeof value === "object") out += `<${name}>${toXml(value as XmlElement)}</${name}>`;
    else out += `<${name}>${escapeXml(String(value))}</${name}>`;
  }
  return out;
}
