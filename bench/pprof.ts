// Reads a Go CPU profile (what nats-server's `--profile PORT` serves at /debug/pprof/profile):
// gzip around the protobuf of github.com/google/pprof's proto/profile.proto. There is no Go
// toolchain here to run `go tool pprof`, and the Debian nats-server binary is stripped, so `perf`
// cannot name its functions; the profile names them itself. Only the fields needed for each
// function's own and cumulative time are read.
import { gunzipSync } from 'node:zlib';

export interface FunctionTime {
  name: string;
  /** Share of all samples with this function innermost (0..1). */
  self: number;
  /** Share of all samples with this function anywhere on the stack, counted once a sample (0..1). */
  cumulative: number;
}

export interface CpuProfile {
  /** Sampled CPU seconds (the last sample value, nanoseconds in a Go CPU profile). */
  seconds: number;
  functions: FunctionTime[];
}

interface Field {
  field: number;
  wire: number;
  /** A varint's value, or for a length-delimited field its bytes. */
  value: bigint | Uint8Array;
}

function readVarint(bytes: Uint8Array, at: number): [bigint, number] {
  let value = 0n;
  let shift = 0n;
  for (;;) {
    if (at >= bytes.length) throw new Error('pprof: truncated varint');
    const byte = bytes[at++]!;
    value |= BigInt(byte & 0x7f) << shift;
    if (byte < 0x80) return [value, at];
    shift += 7n;
  }
}

function* fields(bytes: Uint8Array): Generator<Field> {
  let at = 0;
  while (at < bytes.length) {
    const [key, next] = readVarint(bytes, at);
    at = next;
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === 0) {
      const [value, after] = readVarint(bytes, at);
      at = after;
      yield { field, wire, value };
    } else if (wire === 2) {
      const [length, after] = readVarint(bytes, at);
      const end = after + Number(length);
      if (end > bytes.length) throw new Error('pprof: truncated field');
      yield { field, wire, value: bytes.subarray(after, end) };
      at = end;
    } else if (wire === 1 || wire === 5) {
      at += wire === 1 ? 8 : 4; // fixed64 / fixed32: no field read here has them
    } else {
      throw new Error(`pprof: unknown wire type ${wire}`);
    }
  }
}

/** A repeated integer field, packed (one length-delimited run) or not. */
function integers(value: bigint | Uint8Array): bigint[] {
  if (typeof value === 'bigint') return [value];
  const out: bigint[] = [];
  for (let at = 0; at < value.length; ) {
    const [n, next] = readVarint(value, at);
    out.push(n);
    at = next;
  }
  return out;
}

function nested(value: bigint | Uint8Array): Uint8Array {
  if (typeof value === 'bigint') throw new Error('pprof: expected a message, found a number');
  return value;
}

/** Each function's own and cumulative share of the profile, most cumulative first. */
export function readCpuProfile(gzipped: Uint8Array): CpuProfile {
  const data = gunzipSync(gzipped);
  const strings: string[] = [];
  const samples: { locations: bigint[]; value: bigint }[] = [];
  const locations = new Map<bigint, bigint[]>(); // location id → function ids, innermost first
  const functionNames = new Map<bigint, bigint>(); // function id → string index
  const decoder = new TextDecoder();
  for (const { field, value } of fields(data)) {
    if (field === 6) strings.push(decoder.decode(nested(value)));
    else if (field === 2) {
      let ids: bigint[] = [];
      let values: bigint[] = [];
      for (const f of fields(nested(value))) {
        if (f.field === 1) ids = ids.concat(integers(f.value));
        else if (f.field === 2) values = values.concat(integers(f.value));
      }
      samples.push({ locations: ids, value: values.at(-1) ?? 0n });
    } else if (field === 4) {
      let id = 0n;
      const functions: bigint[] = [];
      for (const f of fields(nested(value))) {
        if (f.field === 1) id = f.value as bigint;
        else if (f.field === 4) {
          for (const line of fields(nested(f.value))) if (line.field === 1) functions.push(line.value as bigint);
        }
      }
      locations.set(id, functions);
    } else if (field === 5) {
      let id = 0n;
      let name = 0n;
      for (const f of fields(nested(value))) {
        if (f.field === 1) id = f.value as bigint;
        else if (f.field === 2) name = f.value as bigint;
      }
      functionNames.set(id, name);
    }
  }
  const nameOf = (id: bigint): string => strings[Number(functionNames.get(id) ?? 0n)] || `function ${id}`;
  const self = new Map<string, bigint>();
  const cumulative = new Map<string, bigint>();
  let total = 0n;
  for (const sample of samples) {
    total += sample.value;
    const stack = sample.locations.flatMap((id) => locations.get(id) ?? []).map(nameOf);
    if (stack.length > 0) self.set(stack[0]!, (self.get(stack[0]!) ?? 0n) + sample.value);
    for (const name of new Set(stack)) cumulative.set(name, (cumulative.get(name) ?? 0n) + sample.value);
  }
  const share = (n: bigint | undefined): number => (total === 0n ? 0 : Number(n ?? 0n) / Number(total));
  const functions = [...cumulative.keys()]
    .map((name) => ({ name, self: share(self.get(name)), cumulative: share(cumulative.get(name)) }))
    .sort((a, b) => b.cumulative - a.cumulative || b.self - a.self || a.name.localeCompare(b.name));
  return { seconds: Number(total) / 1e9, functions };
}

/** The functions of a profile whose name matches, as `12.3 % name` lines (cumulative share). */
export function describeFunctions(profile: CpuProfile, pattern: RegExp): string[] {
  return profile.functions.filter((f) => pattern.test(f.name)).map((f) => `${(f.cumulative * 100).toFixed(1).padStart(5)} % ${f.name}`);
}
