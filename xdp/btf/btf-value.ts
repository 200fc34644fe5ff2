/**
 * Map keys and values as JSON, through their BTF types, the way
 * `bpftool map dump -j` prints them in its "formatted" part
 * (tools/bpf/bpftool/btf_dumper.c), and back (JSON to bytes, to load maps).
 *
 * What bpftool prints, and so what btfToJson gives:
 * - integers of 8/16/32/64 bits as JSON numbers, signed or unsigned by the
 *   encoding; a 64-bit one beyond 2^53 as a bigint (bpftool prints its exact
 *   digits; formatJson writes them back);
 * - bitfields (a struct member with a bitfield size, an INT with a bit offset
 *   or a bit count that is not a whole number of bytes) and 128-bit integers
 *   as hex strings ("0x1f"), the bits as unsigned;
 * - a CHAR-encoded INT as a one-character string; a BOOL as true/false;
 * - an array of `char` (an INT named "char" or CHAR-encoded, of size 1, through
 *   const/volatile but not typedefs) whose bytes are printable up to a NUL as
 *   a string (the bytes after the NUL are not shown); other arrays as arrays;
 * - structs and unions as objects by member name (anonymous members under "");
 * - enums as the name of the matching enumerator, else the number (signed);
 * - pointers as numbers; VAR as { name: value }; DATASEC as
 *   { section: [ { var: value }, ... ] }.
 * bpftool cannot print floats; here they are JSON numbers.
 *
 * jsonToBtf accepts what btfToJson produces, plus integers written as hex
 * strings and one value per char where a string is expected; errors name the
 * JSON path and what was expected there.
 */
import { XdpError } from '../errors.js';
import type { Btf, BtfArray, BtfComposite, BtfInt, BtfType } from './btf-types.js';
import { BTF_INT_ENCODING } from './btf-types.js';
import { formatType } from './btf-format.js';
import { sizeOf, typeById } from './btf-resolve.js';

/** What btfToJson gives (bigint for integers JSON numbers cannot hold exactly). */
export type BtfJson = null | boolean | number | bigint | string | BtfJson[] | { [key: string]: BtfJson };

/** A JSON value that does not fit its BTF type (or bytes that cannot be shown): names the JSON path. */
export class BtfValueError extends XdpError {
  readonly path: string;
  /** The message without the location. */
  readonly detail: string;
  constructor(message: string, path: string, file?: string) {
    super(message, { ...(file !== undefined ? { file } : {}), ...(path !== '' ? { path } : {}) });
    this.path = path;
    this.detail = message;
  }
}

/** `path.member`, or `path["odd name"]` when the name is not an identifier. */
export function jsonPathMember(path: string, name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? `${path}.${name}` : `${path}[${JSON.stringify(name)}]`;
}

/** Kinds btf_dumper_modifier skips (btf__resolve_type: modifiers and typedefs). */
const MODIFIERS = new Set(['TYPEDEF', 'VOLATILE', 'CONST', 'RESTRICT', 'TYPE_TAG']);

function resolveMods(btf: Btf, id: number): BtfType {
  let t = typeById(btf, id);
  for (let n = 0; MODIFIERS.has(t.kind); n++) {
    if (n > 1000) throw new BtfValueError(`type [${id}] is part of a reference cycle`, '');
    t = typeById(btf, (t as { type: number }).type);
  }
  return t;
}

/** is_str_array's type test: the element (through const/volatile/restrict/type_tag, not typedef) is a 1-byte char. */
function isCharElement(btf: Btf, arr: BtfArray): boolean {
  let t = typeById(btf, arr.type);
  for (let n = 0; t.kind === 'VOLATILE' || t.kind === 'CONST' || t.kind === 'RESTRICT' || t.kind === 'TYPE_TAG'; n++) {
    if (n > 1000) return false;
    t = typeById(btf, t.type);
  }
  return t.kind === 'INT' && t.size === 1 && (t.encoding === BTF_INT_ENCODING.CHAR || t.name === 'char');
}

// ------------------------------------------------------------------ bytes → JSON

class Reader {
  readonly view: DataView;
  constructor(readonly bytes: Uint8Array, readonly le: boolean) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  need(off: number, n: number, what: string): void {
    if (off < 0 || off + n > this.bytes.length) {
      throw new BtfValueError(`${what} needs bytes ${off}..${off + n - 1} but the value has ${this.bytes.length}`, '');
    }
  }

  /** `n` bytes at `off` as an unsigned integer (byte order of the BTF). */
  uint(off: number, n: number): bigint {
    let v = 0n;
    for (let k = 0; k < n; k++) {
      const b = BigInt(this.bytes[off + (this.le ? n - 1 - k : k)]!);
      v = (v << 8n) | b;
    }
    return v;
  }
}

const num = (v: bigint): number | bigint => (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);

/** btf_int128_print: "0x" + hex, the upper 64 bits only when nonzero (then the lower padded to 16 digits). */
function hex128(v: bigint): string {
  const upper = v >> 64n;
  const lower = v & 0xffffffffffffffffn;
  return upper === 0n ? `0x${lower.toString(16)}` : `0x${upper.toString(16)}${lower.toString(16).padStart(16, '0')}`;
}

/** btf_dumper_bitfield: `nrBits` bits starting `bitOffset` (0..7) bits into the bytes at `off`. */
function readBits(r: Reader, off: number, bitOffset: number, nrBits: number): bigint {
  const bytes = Math.ceil((bitOffset + nrBits) / 8);
  r.need(off, bytes, `a ${nrBits}-bit field`);
  const raw = r.uint(off, bytes);
  const shift = r.le ? BigInt(bitOffset) : BigInt(bytes * 8 - bitOffset - nrBits);
  return (raw >> shift) & ((1n << BigInt(nrBits)) - 1n);
}

function renderInt(r: Reader, t: BtfInt, off: number, bitOffset: number): BtfJson {
  if (bitOffset !== 0 || t.bitOffset !== 0 || t.bits % 8 !== 0) {
    const total = bitOffset + t.bitOffset;
    return hex128(readBits(r, off + (total >> 3), total & 7, t.bits));
  }
  if (t.bits === 128) {
    r.need(off, 16, `a 128-bit integer`);
    return hex128(r.uint(off, 16));
  }
  const bytes = t.bits / 8;
  switch (t.encoding) {
    case 0:
    case BTF_INT_ENCODING.SIGNED: {
      if (bytes !== 1 && bytes !== 2 && bytes !== 4 && bytes !== 8) {
        return hex128(readBits(r, off, 0, t.bits));
      }
      r.need(off, bytes, `'${t.name}'`);
      const u = r.uint(off, bytes);
      return num(t.encoding === BTF_INT_ENCODING.SIGNED ? BigInt.asIntN(t.bits, u) : u);
    }
    case BTF_INT_ENCODING.CHAR:
      r.need(off, 1, `'${t.name}'`);
      return String.fromCharCode(r.bytes[off]!);
    case BTF_INT_ENCODING.BOOL:
      r.need(off, t.size, `'${t.name}'`);
      return r.uint(off, t.size) !== 0n;
    default:
      r.need(off, bytes, `'${t.name}'`);
      return num(r.uint(off, bytes));
  }
}

function render(btf: Btf, r: Reader, id: number, off: number, bitOffset: number, depth: number): BtfJson {
  if (depth > 256) throw new BtfValueError(`type [${id}] nests more than 256 levels`, '');
  const t = typeById(btf, id);
  switch (t.kind) {
    case 'INT':
      return renderInt(r, t, off, bitOffset);
    case 'PTR':
      r.need(off, 8, 'a pointer');
      return num(r.uint(off, 8));
    case 'ARRAY': {
      if (t.nelems > 0 && isCharElement(btf, t)) {
        r.need(off, t.nelems, `'${formatType(btf, id)}'`);
        let s = '';
        for (let k = 0; k < t.nelems; k++) {
          const b = r.bytes[off + k]!;
          if (b === 0) return s;
          if (b <= 0x1f || b >= 0x7f) break;
          s += String.fromCharCode(b);
        }
      }
      const esz = sizeOf(btf, t.type);
      const out: BtfJson[] = [];
      for (let k = 0; k < t.nelems; k++) out.push(render(btf, r, t.type, off + k * esz, 0, depth + 1));
      return out;
    }
    case 'STRUCT':
    case 'UNION': {
      const out: { [key: string]: BtfJson } = {};
      for (const m of t.members) {
        const at = off + (m.bitOffset >> 3);
        const v = m.bitfieldSize > 0
          ? hex128(readBits(r, at, m.bitOffset & 7, m.bitfieldSize))
          : render(btf, r, m.type, at, m.bitOffset & 7, depth + 1);
        Object.defineProperty(out, m.name, { value: v, enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    case 'ENUM': {
      r.need(off, t.size, `'${formatType(btf, id)}'`);
      if (t.size !== 1 && t.size !== 2 && t.size !== 4 && t.size !== 8) throw new BtfValueError(`enum of ${t.size} bytes`, '');
      const v = BigInt.asIntN(t.size * 8, r.uint(off, t.size));
      const hit = t.values.find((e) => BigInt(e.value | 0) === v);
      return hit !== undefined ? hit.name : num(v);
    }
    case 'ENUM64': {
      r.need(off, 8, `'${formatType(btf, id)}'`);
      const v = r.uint(off, 8);
      const hit = t.values.find((e) => BigInt.asUintN(64, e.value) === v);
      return hit !== undefined ? hit.name : num(BigInt.asIntN(64, v));
    }
    case 'FLOAT':
      r.need(off, t.size, `'${t.name}'`);
      if (t.size === 4) return r.view.getFloat32(off, r.le);
      if (t.size === 8) return r.view.getFloat64(off, r.le);
      return hex128(r.uint(off, Math.min(t.size, 16)));
    case 'TYPEDEF':
    case 'VOLATILE':
    case 'CONST':
    case 'RESTRICT':
    case 'TYPE_TAG':
      return render(btf, r, resolveMods(btf, id).id, off, bitOffset, depth + 1);
    case 'VAR':
      return { [t.name]: render(btf, r, t.type, off, bitOffset, depth + 1) };
    case 'DATASEC':
      return { [t.name]: t.vars.map((v) => render(btf, r, v.type, off + v.offset, 0, depth + 1)) };
    default:
      throw new BtfValueError(`type [${id}] ${t.kind} has no value to show`, '');
  }
}

/** Bytes of type `typeId` (from `offset`) as bpftool's `-j` output formats them. */
export function btfToJson(btf: Btf, typeId: number, bytes: Uint8Array, offset = 0): BtfJson {
  return render(btf, new Reader(bytes, btf.littleEndian), typeId, offset, 0, 0);
}

// ------------------------------------------------------------------ JSON → bytes

interface EncodeContext {
  readonly btf: Btf;
  readonly bytes: Uint8Array;
  readonly le: boolean;
  readonly file?: string;
}

function describeJson(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

function fail(ctx: EncodeContext, path: string, expected: string, got: unknown): never {
  throw new BtfValueError(`expected ${expected}, got ${describeJson(got)}`, path, ctx.file);
}

/** An integer from a JSON number, bigint, or "0x.."/decimal string; undefined when it is none. */
function toBigInt(v: unknown): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isSafeInteger(v) ? BigInt(v) : undefined;
  if (typeof v === 'string' && /^-?(0x[0-9a-fA-F]+|[0-9]+)$/.test(v)) {
    return v.startsWith('-') ? -BigInt(v.slice(1)) : BigInt(v);
  }
  return undefined;
}

function writeUint(ctx: EncodeContext, off: number, n: number, v: bigint): void {
  let x = BigInt.asUintN(n * 8, v);
  for (let k = 0; k < n; k++) {
    ctx.bytes[off + (ctx.le ? k : n - 1 - k)] = Number(x & 0xffn);
    x >>= 8n;
  }
}

function writeBits(ctx: EncodeContext, off: number, bitOffset: number, nrBits: number, v: bigint): void {
  const bytes = Math.ceil((bitOffset + nrBits) / 8);
  let raw = 0n;
  for (let k = 0; k < bytes; k++) raw = (raw << 8n) | BigInt(ctx.bytes[off + (ctx.le ? bytes - 1 - k : k)]!);
  const shift = ctx.le ? BigInt(bitOffset) : BigInt(bytes * 8 - bitOffset - nrBits);
  const mask = ((1n << BigInt(nrBits)) - 1n) << shift;
  raw = (raw & ~mask) | ((BigInt.asUintN(nrBits, v) << shift) & mask);
  writeUint(ctx, off, bytes, raw);
}

function rangeText(bits: number, signed: boolean): string {
  return signed ? `${-(2n ** BigInt(bits - 1))}..${2n ** BigInt(bits - 1) - 1n}` : `0..${2n ** BigInt(bits) - 1n}`;
}

function intInRange(ctx: EncodeContext, path: string, v: unknown, bits: number, signed: boolean, what: string, allowEither = false): bigint {
  const n = toBigInt(v);
  const lo = signed ? -(2n ** BigInt(bits - 1)) : 0n;
  const hi = signed ? 2n ** BigInt(bits - 1) - 1n : 2n ** BigInt(bits) - 1n;
  const loAny = allowEither ? -(2n ** BigInt(bits - 1)) : lo;
  const hiAny = allowEither ? 2n ** BigInt(bits) - 1n : hi;
  if (n === undefined || n < loAny || n > hiAny) {
    fail(ctx, path, `${what}: an integer ${allowEither ? `${loAny}..${hiAny}` : rangeText(bits, signed)}`, v);
  }
  return n;
}

function encodeInt(ctx: EncodeContext, t: BtfInt, v: unknown, path: string, off: number, bitOffset: number, label?: string): void {
  const what = `'${label ?? t.name}'`;
  if (bitOffset !== 0 || t.bitOffset !== 0 || t.bits % 8 !== 0 || t.bits === 128 || ![8, 16, 32, 64].includes(t.bits)) {
    const n = intInRange(ctx, path, v, t.bits, false, `${what} (${t.bits} bits, as bpftool shows them: "0x...")`, t.signed);
    const total = bitOffset + t.bitOffset;
    writeBits(ctx, off + (total >> 3), total & 7, t.bits, n);
    return;
  }
  const bytes = t.bits / 8;
  if (t.encoding === BTF_INT_ENCODING.CHAR) {
    if (typeof v === 'string') {
      if (v.length !== 1 || v.charCodeAt(0) > 0xff) fail(ctx, path, `${what}: one character (code 0..255)`, v);
      ctx.bytes[off] = v.charCodeAt(0);
      return;
    }
    writeUint(ctx, off, bytes, intInRange(ctx, path, v, 8, true, `${what}: one character or`, true));
    return;
  }
  if (t.encoding === BTF_INT_ENCODING.BOOL) {
    if (typeof v === 'boolean') writeUint(ctx, off, t.size, v ? 1n : 0n);
    else if (v === 0 || v === 1) writeUint(ctx, off, t.size, BigInt(v));
    else fail(ctx, path, `${what}: true or false`, v);
    return;
  }
  writeUint(ctx, off, bytes, intInRange(ctx, path, v, t.bits, t.signed, what));
}

/** `label`: the type as declared (a typedef's name), for messages about the type under it. */
function encode(ctx: EncodeContext, id: number, v: unknown, path: string, off: number, bitOffset: number, depth: number, label?: string): void {
  if (depth > 256) throw new BtfValueError(`type [${id}] nests more than 256 levels`, path, ctx.file);
  const { btf } = ctx;
  const t = typeById(btf, id);
  switch (t.kind) {
    case 'INT':
      return encodeInt(ctx, t, v, path, off, bitOffset, label);
    case 'PTR':
      return writeUint(ctx, off, 8, intInRange(ctx, path, v, 64, false, `a pointer '${formatType(btf, id)}'`));
    case 'ARRAY':
      return encodeArray(ctx, t, v, path, off, depth);
    case 'STRUCT':
    case 'UNION':
      return encodeComposite(ctx, t, v, path, off, depth);
    case 'ENUM':
    case 'ENUM64': {
      const type = formatType(btf, id);
      if (typeof v === 'string' && !/^-?(0x[0-9a-fA-F]+|[0-9]+)$/.test(v)) {
        const hit = (t.values as readonly { name: string; value: number | bigint }[]).find((e) => e.name === v);
        if (hit === undefined) fail(ctx, path, `'${type}': one of ${t.values.map((e) => e.name).join(', ')}, or a number`, v);
        return writeUint(ctx, off, t.size, BigInt(hit.value));
      }
      return writeUint(ctx, off, t.size, intInRange(ctx, path, v, t.size * 8, true, `'${type}': an enumerator name or`, true));
    }
    case 'FLOAT': {
      if (typeof v !== 'number' && typeof v !== 'bigint') fail(ctx, path, `'${t.name}': a number`, v);
      const dv = new DataView(ctx.bytes.buffer, ctx.bytes.byteOffset, ctx.bytes.byteLength);
      if (t.size === 4) dv.setFloat32(off, Number(v), ctx.le);
      else if (t.size === 8) dv.setFloat64(off, Number(v), ctx.le);
      else throw new BtfValueError(`cannot write a ${t.size}-byte float`, path, ctx.file);
      return;
    }
    case 'TYPEDEF':
    case 'VOLATILE':
    case 'CONST':
    case 'RESTRICT':
    case 'TYPE_TAG':
      return encode(ctx, resolveMods(btf, id).id, v, path, off, bitOffset, depth + 1, label ?? formatType(btf, id));
    case 'VAR': {
      const obj = asObject(ctx, v, path, `{ "${t.name}": ... }`);
      const keys = Object.keys(obj);
      if (keys.length !== 1 || keys[0] !== t.name) fail(ctx, path, `an object with the one key "${t.name}"`, v);
      return encode(ctx, t.type, obj[t.name], jsonPathMember(path, t.name), off, bitOffset, depth + 1);
    }
    case 'DATASEC': {
      const obj = asObject(ctx, v, path, `{ "${t.name}": [...] }`);
      const keys = Object.keys(obj);
      if (keys.length !== 1 || keys[0] !== t.name) fail(ctx, path, `an object with the one key "${t.name}"`, v);
      const list = obj[t.name];
      const p = jsonPathMember(path, t.name);
      if (!Array.isArray(list) || list.length !== t.vars.length) fail(ctx, p, `an array of ${t.vars.length} variables`, list);
      t.vars.forEach((vs, k) => encode(ctx, vs.type, list[k], `${p}[${k}]`, off + vs.offset, 0, depth + 1));
      return;
    }
    default:
      throw new BtfValueError(`type [${id}] ${t.kind} cannot hold a value`, path, ctx.file);
  }
}

function asObject(ctx: EncodeContext, v: unknown, path: string, expected: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(ctx, path, expected, v);
  return v as Record<string, unknown>;
}

function encodeArray(ctx: EncodeContext, t: BtfArray, v: unknown, path: string, off: number, depth: number): void {
  const type = formatType(ctx.btf, t.id);
  if (typeof v === 'string' && isCharElement(ctx.btf, t)) {
    if (v.length > t.nelems) fail(ctx, path, `'${type}': a string of at most ${t.nelems} characters`, v);
    for (let k = 0; k < v.length; k++) {
      const c = v.charCodeAt(k);
      if (c > 0xff) fail(ctx, path, `'${type}': characters with codes 0..255`, v);
      ctx.bytes[off + k] = c;
    }
    ctx.bytes.fill(0, off + v.length, off + t.nelems);
    return;
  }
  if (!Array.isArray(v) || v.length !== t.nelems) {
    fail(ctx, path, `'${type}': an array of ${t.nelems} elements${isCharElement(ctx.btf, t) ? ' or a string' : ''}`, v);
  }
  const esz = sizeOf(ctx.btf, t.type);
  v.forEach((x, k) => encode(ctx, t.type, x, `${path}[${k}]`, off + k * esz, 0, depth + 1));
}

function encodeComposite(ctx: EncodeContext, t: BtfComposite, v: unknown, path: string, off: number, depth: number): void {
  const type = formatType(ctx.btf, t.id);
  const names = t.members.map((m) => m.name);
  const obj = asObject(ctx, v, path, `'${type}': an object with ${t.kind === 'UNION' ? 'one or more of ' : ''}members ${names.map((n) => JSON.stringify(n)).join(', ')}`);
  const unknown = Object.keys(obj).filter((k) => !names.includes(k));
  if (unknown.length > 0) {
    throw new BtfValueError(`'${type}' has no member ${unknown.map((k) => JSON.stringify(k)).join(', ')} (members: ${names.map((n) => JSON.stringify(n)).join(', ')})`, path, ctx.file);
  }
  if (t.kind === 'STRUCT') {
    const missing = names.filter((n) => !Object.prototype.hasOwnProperty.call(obj, n));
    if (missing.length > 0) throw new BtfValueError(`'${type}': missing member ${missing.map((n) => JSON.stringify(n)).join(', ')}`, path, ctx.file);
  } else if (Object.keys(obj).length === 0) {
    throw new BtfValueError(`'${type}': expected at least one of the members ${names.map((n) => JSON.stringify(n)).join(', ')}`, path, ctx.file);
  }
  for (const m of t.members) {
    if (!Object.prototype.hasOwnProperty.call(obj, m.name)) continue;
    const p = jsonPathMember(path, m.name);
    const at = off + (m.bitOffset >> 3);
    if (m.bitfieldSize > 0) {
      const target = resolveMods(ctx.btf, m.type);
      const signed = (target.kind === 'INT' && target.signed) || ((target.kind === 'ENUM' || target.kind === 'ENUM64') && target.signed);
      const n = intInRange(ctx, p, obj[m.name], m.bitfieldSize, false, `bitfield '${m.name}' (${m.bitfieldSize} bits, as bpftool shows them: "0x...")`, signed);
      writeBits(ctx, at, m.bitOffset & 7, m.bitfieldSize, n);
    } else {
      encode(ctx, m.type, obj[m.name], p, at, m.bitOffset & 7, depth + 1);
    }
  }
}

/**
 * The bytes of type `typeId` that `json` describes (the inverse of btfToJson).
 * `path` names the JSON value in errors (`maps.flows.entries[3].value`), `file` the document.
 */
export function jsonToBtf(btf: Btf, typeId: number, json: unknown, path: string, file?: string): Uint8Array {
  const bytes = new Uint8Array(sizeOf(btf, typeId));
  encode({ btf, bytes, le: btf.littleEndian, ...(file !== undefined ? { file } : {}) }, typeId, json, path, 0, 0, 0);
  return bytes;
}
