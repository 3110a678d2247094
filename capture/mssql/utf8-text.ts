// No imports: the polling SQL (capture/poll/sql/mssql.ts) uses it without loading the mssql driver.

/**
 * A char, varchar or text column under a UTF-8 collation (SQL Server 2019+, names ending in
 * _UTF8) read as NVARCHAR; undefined for any other column. tedious decodes such a column's
 * bytes with iconv-lite, whose UTF-8 decoder drops a leading U+FEFF (a byte order mark, as
 * text exported by Windows tools begins) from every value: the envelope would silently differ
 * from the row. NVARCHAR comes as UTF-16, which tedious decodes as it is. The conversion loses
 * nothing (UTF-8 and UTF-16 encode the same characters), and n bytes of UTF-8 are at most n
 * UTF-16 code units, so varchar(n) fits NVARCHAR(n) up to its 4,000 limit. Code-page
 * collations are decoded by iconv-lite's single- and double-byte tables, which keep those
 * bytes as the characters they are.
 */
export function utf8TextAsNvarchar(column: { nativeType?: string; collation?: string | null }, expression: string): string | undefined {
  if (!column.collation || !/_UTF8$/i.test(column.collation)) return undefined;
  const type = /^(char|varchar|text)(?:\((\d+|max)\))?$/i.exec(column.nativeType ?? '');
  if (!type) return undefined;
  const bytes = type[2] === undefined || type[2].toLowerCase() === 'max' ? Infinity : Number(type[2]);
  return `CONVERT(NVARCHAR(${bytes <= 4000 ? bytes : 'MAX'}), ${expression})`;
}
