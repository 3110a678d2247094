/**
 * SQL-standard quoting, the same in PostgreSQL and Oracle: identifiers in double quotes,
 * literals in single quotes, each quote doubled. No driver is imported here (the polling SQL
 * builders use it in every bridge).
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
