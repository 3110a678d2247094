/**
 * SQL-standard quoting, the same in PostgreSQL and Oracle: identifiers in double quotes,
 * literals in single quotes, each quote doubled. Used by the captures, the polling SQL
 * builders (loaded in every bridge: no driver is imported here), the PostgreSQL sink and the
 * server launcher.
 */
export function quoteIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

export function quoteTable(schema: string, table: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(table)}`;
}

export function quoteLiteral(value: string): string {
  return "'" + value.replace(/'/g, "''") + "'";
}
