/**
 * A vendor's JSON record -> the mapping engine's SourceRow (docs/webhooks.md "Values"):
 * a string stays the string; a number is its literal text, exactly as sent (kind integer or
 * decimal); true/false become "true"/"false"; null is NULL; an object or array is its JSON
 * text, numbers still as sent (kind json). The mapping then converts as it does for a table.
 */
import type { Mapping, SourceColumn, SourceColumnKind, SourceRow } from '../mapping/types.ts';
import { JsonNumber, stringifyLossless, type LosslessObject } from './json-text.ts';

export interface VendorRow {
  row: SourceRow;
  columns: Map<string, SourceColumn>;
}

export function vendorRow(record: LosslessObject): VendorRow {
  const row: SourceRow = {};
  const columns = new Map<string, SourceColumn>();
  for (const name of Object.keys(record)) {
    const value = record[name]!;
    let text: string | null;
    let kind: SourceColumnKind;
    if (value === null) {
      text = null;
      kind = 'text';
    } else if (typeof value === 'string') {
      text = value;
      kind = 'text';
    } else if (typeof value === 'boolean') {
      text = value ? 'true' : 'false';
      kind = 'boolean';
    } else if (value instanceof JsonNumber) {
      text = value.text;
      kind = /^-?\d+$/.test(value.text) ? 'integer' : 'decimal';
    } else {
      text = stringifyLossless(value);
      kind = 'json';
    }
    Object.defineProperty(row, name, { value: text, enumerable: true, writable: true, configurable: true });
    columns.set(name, { name, kind, nativeType: `json ${value === null ? 'null' : Array.isArray(value) ? 'array' : value instanceof JsonNumber ? 'number' : typeof value}` });
  }
  return { row, columns };
}

/**
 * The mapped fields the record does not carry: every field for c/u, the key fields for d. A
 * vendor that leaves a field out has not said it is null, so the change is refused rather
 * than guessed at (send null for NULL).
 */
export function missingFields(mapping: Mapping, record: LosslessObject, keyOnly: boolean): string[] {
  const keys = new Set(mapping.key ?? []);
  return mapping.fields
    .filter((f) => (!keyOnly || keys.has(f.from)) && !Object.hasOwn(record, f.from))
    .map((f) => `field ${f.name} (${f.from}): missing from the body${keys.has(f.from) ? ' (a key field)' : ''}`);
}
