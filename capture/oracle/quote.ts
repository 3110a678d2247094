/**
 * Oracle identifier and literal quoting, in a module of its own: the polling SQL builder and
 * the value conversions need it, and they are loaded in every bridge, so it must not bring the
 * oracledb driver with it (src/runtime/drivers.ts loads that only for an Oracle source).
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
