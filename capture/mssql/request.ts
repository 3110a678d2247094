import sql from 'mssql';
import type { SourceColumnKind, SourceValue } from '../../src/mapping/types.ts';
import { bindValue, paramType } from './values.ts';

/** Adds one parameter, typed for the column it is compared with (values.ts paramType). */
export function bindParam(request: sql.Request, name: string, column: { dataType: string; kind: SourceColumnKind }, value: SourceValue): sql.Request {
  const v = bindValue(column.kind, value);
  switch (paramType(column.dataType)) {
    case 'varchar':
      return request.input(name, sql.VarChar(sql.MAX), v);
    case 'varbinary':
      return request.input(name, sql.VarBinary(sql.MAX), v);
    default:
      return request.input(name, sql.NVarChar(sql.MAX), v);
  }
}
