/**
 * The binlog client: @powersync/mysql-zongji for the replication protocol (handshake and
 * authentication, caching_sha2_password included through @vlasky/mysql; checksum negotiation;
 * COM_BINLOG_DUMP; packet framing; pause/resume of the socket), with our own decoders for the
 * events whose contents matter.
 *
 * zongji's own row decoding cannot be used as is (docs/mysql-capture.md): it turns DECIMAL
 * into a JS float (parseFloat), it names columns from the *current* information_schema (wrong
 * for events logged before an ALTER TABLE, and fatal for a replay across DROP COLUMN), and it
 * ignores the table map's optional metadata (binlog_row_metadata=FULL: names, signedness,
 * charsets, ENUM/SET labels). It builds each event from a table of event classes; we put our
 * class in that table for the events we decode, so zongji hands them over with their raw body
 * (checksum removed) and the fields of their header.
 */
import { createRequire } from 'node:module';
import { HmsSyncError } from '../../src/errors.ts';

const require = createRequire(import.meta.url);

/** Event type codes (MySQL binlog_event.h, MariaDB log_event.h). */
export const EventType = {
  QUERY: 2,
  ROTATE: 4,
  XID: 16,
  TABLE_MAP: 19,
  WRITE_ROWS_V1: 23,
  UPDATE_ROWS_V1: 24,
  DELETE_ROWS_V1: 25,
  HEARTBEAT: 27,
  WRITE_ROWS_V2: 30,
  UPDATE_ROWS_V2: 31,
  DELETE_ROWS_V2: 32,
  GTID: 33,
  ANONYMOUS_GTID: 34,
  XA_PREPARE: 38,
  PARTIAL_UPDATE_ROWS: 39,
  TRANSACTION_PAYLOAD: 40,
  GTID_TAGGED: 42,
  MARIADB_GTID: 162,
  MARIADB_GTID_LIST: 163,
  MARIADB_QUERY_COMPRESSED: 165,
  MARIADB_WRITE_ROWS_COMPRESSED_V1: 166,
  MARIADB_UPDATE_ROWS_COMPRESSED_V1: 167,
  MARIADB_DELETE_ROWS_COMPRESSED_V1: 168,
  MARIADB_WRITE_ROWS_COMPRESSED: 169,
  MARIADB_UPDATE_ROWS_COMPRESSED: 170,
  MARIADB_DELETE_ROWS_COMPRESSED: 171,
} as const;

/** The events handed over raw: everything the capture reads beyond rotate, query and xid. */
const RAW_CODES = new Set<number>([
  EventType.TABLE_MAP,
  EventType.WRITE_ROWS_V1,
  EventType.UPDATE_ROWS_V1,
  EventType.DELETE_ROWS_V1,
  EventType.WRITE_ROWS_V2,
  EventType.UPDATE_ROWS_V2,
  EventType.DELETE_ROWS_V2,
  EventType.GTID,
  EventType.ANONYMOUS_GTID,
  EventType.GTID_TAGGED,
  EventType.XA_PREPARE,
  EventType.PARTIAL_UPDATE_ROWS,
  EventType.TRANSACTION_PAYLOAD,
  EventType.MARIADB_GTID,
  EventType.MARIADB_GTID_LIST,
  EventType.MARIADB_QUERY_COMPRESSED,
  EventType.MARIADB_WRITE_ROWS_COMPRESSED_V1,
  EventType.MARIADB_UPDATE_ROWS_COMPRESSED_V1,
  EventType.MARIADB_DELETE_ROWS_COMPRESSED_V1,
  EventType.MARIADB_WRITE_ROWS_COMPRESSED,
  EventType.MARIADB_UPDATE_ROWS_COMPRESSED,
  EventType.MARIADB_DELETE_ROWS_COMPRESSED,
]);

/** The common event header (19 bytes), as the server wrote it. */
const HEADER_LENGTH = 19;

interface ZongjiParser {
  _buffer: Buffer;
  _offset: number;
  _packetEnd: number;
}

/** An event handed over undecoded: its header fields and its body without the checksum. */
export class RawBinlogEvent {
  readonly code: number;
  /** Seconds since the epoch (header timestamp). */
  readonly timestampSeconds: number;
  readonly serverId: number;
  readonly eventLength: number;
  /** Offset of the next event in the same file (0 for artificial events). */
  readonly nextPosition: number;
  readonly flags: number;
  readonly body: Buffer;

  constructor(parser: ZongjiParser, _options: unknown, zongji: { useChecksum: boolean }) {
    const headerStart = parser._offset - HEADER_LENGTH;
    const header = parser._buffer.subarray(headerStart, parser._offset);
    this.timestampSeconds = header.readUInt32LE(0);
    this.code = header.readUInt8(4);
    this.serverId = header.readUInt32LE(5);
    this.eventLength = header.readUInt32LE(9);
    this.nextPosition = header.readUInt32LE(13);
    this.flags = header.readUInt16LE(17);
    const end = parser._packetEnd - (zongji.useChecksum ? 4 : 0);
    // A view, not a copy: the parser never writes into a buffer it has handed out (it appends
    // into new ones), and the event is decoded and dropped soon after. Whoever keeps a body
    // longer (a table map cache) copies it.
    this.body = parser._buffer.subarray(parser._offset, end);
    parser._offset = parser._packetEnd;
  }

  /** Where this event starts in its file. */
  get startPosition(): number {
    return this.nextPosition - this.eventLength;
  }

  /** zongji dispatches on the type name: ours must not be one it handles itself (TableMap, Rotate). */
  getTypeName(): string {
    return 'RawBinlogEvent';
  }

  getEventName(): string {
    return 'rawbinlogevent';
  }
}

/** The events zongji itself decodes and the capture uses. */
export interface ZongjiRotate {
  getTypeName(): 'Rotate';
  binlogName: string;
  position: number;
  nextPosition: number;
  timestamp: number;
}
export interface ZongjiQuery {
  getTypeName(): 'Query';
  query: string;
  schema: string;
  nextPosition: number;
  timestamp: number;
  size: number;
}
export interface ZongjiXid {
  getTypeName(): 'Xid';
  nextPosition: number;
  timestamp: number;
}
export type BinlogEventLike = RawBinlogEvent | ZongjiRotate | ZongjiQuery | ZongjiXid | { getTypeName(): string; nextPosition: number };

export interface ZongjiInstance {
  on(event: 'binlog', listener: (event: BinlogEventLike) => void): void;
  on(event: 'error', listener: (error: unknown) => void): void;
  on(event: 'ready' | 'stopped', listener: () => void): void;
  start(options: { serverId: number; filename?: string; position?: number }): void;
  stop(): void;
  pause(): void;
  resume(): void;
  useChecksum: boolean;
  stopped: boolean;
  /** The binlog connection (@vlasky/mysql): statements queued on it run before the dump starts. */
  connection: { query(sql: string, callback: (error: unknown) => void): void; threadId: number | null };
  ctrlConnection: { query(sql: string, callback: (error: unknown) => void): void };
}

export interface ZongjiConnectionOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  connectTimeout?: number;
  enableKeepAlive?: boolean;
  keepAliveInitialDelay?: number;
  /** TLS for the binlog connection, as the url's `ssl-mode` / `ssl-ca` give it (connection.ts mysqlSsl). */
  ssl?: { ca?: string; rejectUnauthorized: boolean };
}

let zongjiClass: (new (options: ZongjiConnectionOptions & { dateStrings: boolean }) => ZongjiInstance) | undefined;

/**
 * zongji with our event class installed. The packet module reads `getEventClass` from the
 * code map once, when it is first loaded; so the code map is patched before zongji itself is
 * required, and a zongji already loaded elsewhere in the process is refused rather than used
 * with its lossy decoders.
 */
function loadZongji(): NonNullable<typeof zongjiClass> {
  if (zongjiClass) return zongjiClass;
  const packetModule = require.resolve('@powersync/mysql-zongji/lib/packet/binlog.js');
  if (require.cache[packetModule]) {
    throw new HmsSyncError('INTERNAL', 'zongji was loaded before the MySQL capture could install its event decoders');
  }
  const codeMap = require('@powersync/mysql-zongji/lib/code_map.js') as { getEventClass: (code: number) => unknown };
  const original = codeMap.getEventClass;
  codeMap.getEventClass = (code: number) => (RAW_CODES.has(code) ? RawBinlogEvent : original(code));
  zongjiClass = require('@powersync/mysql-zongji') as NonNullable<typeof zongjiClass>;
  return zongjiClass;
}

export function createZongji(options: ZongjiConnectionOptions): ZongjiInstance {
  const ZongJi = loadZongji();
  // dateStrings only matters for zongji's own decoders, which we do not use for row values.
  return new ZongJi({ ...options, dateStrings: true });
}
