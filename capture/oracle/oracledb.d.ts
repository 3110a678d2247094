/**
 * The part of node-oracledb (v6+, thin mode) this project uses. The package ships no type
 * declarations and @types/oracledb is not a dependency, so they are declared here, narrowly.
 */
declare module 'oracledb' {
  namespace oracledb {
  export interface DbType {
    readonly num: number;
    readonly name: string;
  }

  export interface Metadata {
    name: string;
    dbType?: DbType;
    dbTypeName?: string;
    precision?: number;
    scale?: number;
    byteSize?: number;
    nullable?: boolean;
  }

  export interface FetchTypeResult {
    type?: DbType;
    converter?: (value: unknown) => unknown;
  }

  export interface ExecuteOptions {
    outFormat?: number;
    fetchTypeHandler?: (metadata: Metadata) => FetchTypeResult | undefined;
    maxRows?: number;
    autoCommit?: boolean;
    resultSet?: boolean;
    fetchArraySize?: number;
  }

  export interface ResultSet<T> {
    getRows(count: number): Promise<T[]>;
    close(): Promise<void>;
  }

  export interface Result<T> {
    rows?: T[];
    resultSet?: ResultSet<T>;
    metaData?: Metadata[];
    rowsAffected?: number;
  }

  export interface Connection {
    execute<T = unknown>(sql: string, binds?: unknown[] | Record<string, unknown>, options?: ExecuteOptions): Promise<Result<T>>;
    commit(): Promise<void>;
    rollback(): Promise<void>;
    close(): Promise<void>;
    break(): Promise<void>;
    callTimeout: number;
    readonly oracleServerVersionString?: string;
  }

  export interface ConnectionAttributes {
    user: string;
    password: string;
    connectString: string;
    connectTimeout?: number;
    transportConnectTimeout?: number;
    expireTime?: number;
  }

  export interface OracleError extends Error {
    code?: string;
    errorNum?: number;
    offset?: number;
  }

  export interface OracleDb {
    readonly thin: boolean;
    fetchAsString: DbType[];
    fetchAsBuffer: DbType[];
    readonly OUT_FORMAT_ARRAY: number;
    readonly OUT_FORMAT_OBJECT: number;
    readonly DB_TYPE_NUMBER: DbType;
    readonly DB_TYPE_VARCHAR: DbType;
    readonly DB_TYPE_NVARCHAR: DbType;
    readonly DB_TYPE_CHAR: DbType;
    readonly DB_TYPE_NCHAR: DbType;
    readonly DB_TYPE_CLOB: DbType;
    readonly DB_TYPE_NCLOB: DbType;
    readonly DB_TYPE_BLOB: DbType;
    readonly DB_TYPE_RAW: DbType;
    readonly DB_TYPE_LONG: DbType;
    readonly DB_TYPE_LONG_RAW: DbType;
    readonly DB_TYPE_DATE: DbType;
    readonly DB_TYPE_TIMESTAMP: DbType;
    readonly DB_TYPE_TIMESTAMP_TZ: DbType;
    readonly DB_TYPE_TIMESTAMP_LTZ: DbType;
    readonly DB_TYPE_BINARY_FLOAT: DbType;
    readonly DB_TYPE_BINARY_DOUBLE: DbType;
    readonly DB_TYPE_BINARY_INTEGER: DbType;
    readonly DB_TYPE_ROWID: DbType;
    readonly DB_TYPE_JSON: DbType;
    readonly STRING: DbType;
    readonly BUFFER: DbType;
    getConnection(attributes: ConnectionAttributes): Promise<Connection>;
  }

  }
  const oracledb: oracledb.OracleDb;
  export = oracledb;
}
