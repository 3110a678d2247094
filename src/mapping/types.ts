/**
 * What a capture module hands to the mapping engine, and what the engine gives back.
 *
 * Capture modules normalize every legacy value to a canonical text form (or bytes), so the
 * mapping engine never sees a driver's JS object (no Date, no float): see SourceColumnKind.
 */

/** A legacy value as captured: canonical text, raw bytes, or SQL NULL. */
export type SourceValue = string | Uint8Array | null;

/**
 * The family of a source column, and the canonical text a capture module produces for it:
 * - text:        the text as stored (CHAR padding kept)
 * - integer:     decimal digits with optional leading '-'
 * - decimal:     exact decimal text as the database prints it ('12.3400', 'NaN')
 * - float:       the database's shortest round-trip text ('1.5', '1e-07', 'Infinity')
 * - boolean:     'true' | 'false'
 * - date:        'YYYY-MM-DD' (or the database's text for infinity / BC dates)
 * - time:        'HH:MM:SS[.ffffff]'
 * - timestamp:   'YYYY-MM-DD HH:MM:SS[.ffffff]' (no zone)
 * - timestamptz: 'YYYY-MM-DD HH:MM:SS[.ffffff]+HH[:MM[:SS]]' (zone offset always present)
 * - json:        JSON text
 * - bytes:       Uint8Array
 * - other:       the database's own text form (arrays, ranges, geometry, enums...)
 */
export type SourceColumnKind =
  | 'text'
  | 'integer'
  | 'decimal'
  | 'float'
  | 'boolean'
  | 'date'
  | 'time'
  | 'timestamp'
  | 'timestamptz'
  | 'json'
  | 'bytes'
  | 'other';

export interface SourceColumn {
  name: string;
  kind: SourceColumnKind;
  /** The database's own type name, for messages (e.g. "numeric(38,10)", "bpchar"). */
  nativeType: string;
}

/** A captured row: column name (exactly as in the catalog) to value. */
export type SourceRow = Record<string, SourceValue>;

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export type FieldType =
  | 'string'
  | 'integer'
  | 'bigint'
  | 'decimal'
  | 'boolean'
  | 'date'
  | 'timestamp'
  | 'json'
  | 'bytes';

export interface FieldSpec {
  /** Output field name (the YAML key under `fields:`). */
  name: string;
  /** Source column, exact catalog name. */
  from: string;
  type: FieldType;
  trim: boolean;
  /** Legacy value -> normalized value. */
  codes?: Record<string, JsonValue>;
  /** Applies to non-null values not listed in `codes`. `undefined` means: no default. */
  default?: JsonValue;
  /** Legacy date/timestamp format, e.g. "yyyyMMdd", "yyyyMMddHHmmss", "MM/dd/yyyy". */
  format?: string;
  /** Legacy boolean spellings (exact match after trim). */
  trueValues?: string[];
  falseValues?: string[];
  /** Legacy values (after trim) that mean NULL, e.g. ["00000000", "0"]. */
  nullIf?: string[];
  /** IANA zone for zone-less timestamps (default UTC). */
  timezone?: string;
  /** Line of this field in the mapping file (for messages). */
  line: number;
}

export type UnmappedPolicy = 'ignore' | 'keep' | 'error';

export interface Mapping {
  /** Absolute path of the mapping file. */
  file: string;
  /** Schema-qualified source table as written, e.g. "public.inspections". */
  table: string;
  schema: string;
  tableName: string;
  entity: string;
  /** Source key columns; undefined = the table's primary key (resolved by the capture). */
  key?: string[];
  fields: FieldSpec[];
  unmapped: UnmappedPolicy;
  /** Polling hint (`poll:` in the mapping file): a column that moves on every update, and the full-sweep cadence. */
  poll?: { changedColumn: string; sweepMs?: number };
  /** Short hash (12 hex chars of sha256) of the file's bytes. */
  hash: string;
}

export type MapResult =
  | { ok: true; key: JsonObject; after: JsonObject }
  | { ok: false; error: string };
