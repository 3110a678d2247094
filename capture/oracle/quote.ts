/**
 * Oracle identifier and literal quoting (SQL-standard: src/util/sql-quote.ts), in a module of
 * its own: the polling SQL builder and the value conversions need it, and they are loaded in
 * every bridge, so it must not bring the oracledb driver with it (src/runtime/drivers.ts loads
 * that only for an Oracle source).
 */
export { quoteIdent, quoteLiteral, quoteTable } from '../../src/util/sql-quote.ts';
