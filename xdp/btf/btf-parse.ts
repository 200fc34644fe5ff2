/**
 * parseBtf: the .BTF section's bytes → a Btf value (header, string table, types
 * numbered from 1). Every read is bounds checked; anything malformed is an
 * ObjectFormatError naming the section-relative offset and what was expected.
 *
 * Layout (include/uapi/linux/btf.h, Documentation/bpf/btf.rst):
 *   struct btf_header { u16 magic; u8 version; u8 flags; u32 hdr_len;
 *                       u32 type_off, type_len, str_off, str_len; }
 * with type_off/str_off relative to the end of the header (hdr_len).
 */

import { ByteReader, stringAt } from '../bytes/byte-reader.js';
import {
  BTF_HEADER_SIZE,
  BTF_INT_ENCODING,
  BTF_KIND_LAYOUT,
  BTF_KIND_NAMES,
  BTF_LINKAGE_NAMES,
  BTF_MAGIC,
  BTF_TYPE_HEADER_SIZE,
  BTF_VERSION,
  BTF_VOID,
  type Btf,
  type BtfHeader,
  type BtfKindName,
  type BtfLinkage,
  type BtfType,
} from './btf-types.js';

export interface ParseBtfOptions {
  /** File name for error messages. */
  file?: string;
  /** Byte order the containing object declares; the BTF magic must agree. */
  littleEndian?: boolean;
}

export const BTF_SECTION = '.BTF';

/** Work out the byte order from the magic; throws when it is neither order of 0xeB9F. */
export function detectByteOrder(r: ByteReader, magicOffset: number, what: string): boolean {
  r.need(magicOffset, 2, `the ${what} magic 0xeb9f`);
  const b0 = r.bytes[magicOffset]!;
  const b1 = r.bytes[magicOffset + 1]!;
  if (b0 === (BTF_MAGIC & 0xff) && b1 === BTF_MAGIC >> 8) return true;
  if (b0 === BTF_MAGIC >> 8 && b1 === (BTF_MAGIC & 0xff)) return false;
  const seen = ((b1 << 8) | b0).toString(16).padStart(4, '0');
  return r.fail(magicOffset, `bad ${what} magic 0x${seen} (little-endian read): expected 0xeb9f in either byte order`);
}

interface PendingRef {
  readonly target: number;
  readonly at: number;
  readonly what: string;
}

export function parseBtf(bytes: Uint8Array, opts: ParseBtfOptions = {}): Btf {
  const probe = new ByteReader(bytes, true, { file: opts.file, section: BTF_SECTION });
  const littleEndian = detectByteOrder(probe, 0, 'BTF');
  if (opts.littleEndian !== undefined && opts.littleEndian !== littleEndian) {
    probe.fail(
      0,
      `BTF magic says ${littleEndian ? 'little' : 'big'}-endian but the object is ${opts.littleEndian ? 'little' : 'big'}-endian`,
    );
  }
  const r: ByteReader = new ByteReader(bytes, littleEndian, { file: opts.file, section: BTF_SECTION });
  const header = readHeader(r);
  const strStart = header.hdrLen + header.strOff;
  // A copy: the Btf must not change if the caller reuses the section buffer.
  const strings = bytes.slice(strStart, strStart + header.strLen);
  const typeStart = header.hdrLen + header.typeOff;
  const types = readTypes(r, typeStart, typeStart + header.typeLen, strings, strStart);
  const out: Btf = { littleEndian, header, types, strings };
  return opts.file !== undefined ? { file: opts.file, ...out } : out;
}

function readHeader(r: ByteReader): BtfHeader {
  const magic = r.u16(0, 'the BTF magic');
  const version = r.u8(2, 'the BTF version');
  if (version !== BTF_VERSION) r.fail(2, `unsupported BTF version ${version}: expected ${BTF_VERSION}`);
  const flags = r.u8(3, 'the BTF header flags');
  if (flags !== 0) r.fail(3, `unsupported BTF header flags 0x${flags.toString(16)}: expected 0`);
  const hdrLen = r.u32(4, 'hdr_len');
  if (hdrLen < BTF_HEADER_SIZE) {
    r.fail(4, `hdr_len ${hdrLen} is shorter than the ${BTF_HEADER_SIZE}-byte btf_header`);
  }
  if (hdrLen > r.length) {
    r.fail(4, `hdr_len ${hdrLen} runs past the end of the section (${r.length} bytes): expected at most ${r.length}`);
  }
  const typeOff = r.u32(8, 'type_off');
  const typeLen = r.u32(12, 'type_len');
  const strOff = r.u32(16, 'str_off');
  const strLen = r.u32(20, 'str_len');
  const dataLen = r.length - hdrLen;
  if (typeOff % 4 !== 0) r.fail(8, `type_off ${typeOff} is not 4-byte aligned`);
  if (typeOff > dataLen) r.fail(8, `type_off ${typeOff} is past the ${dataLen} bytes after the header`);
  if (typeOff + typeLen > dataLen) {
    r.fail(12, `type section [${typeOff}, ${typeOff + typeLen}) runs past the ${dataLen} bytes after the header`);
  }
  if (strOff > dataLen) r.fail(16, `str_off ${strOff} is past the ${dataLen} bytes after the header`);
  if (strOff + strLen > dataLen) {
    r.fail(20, `string section [${strOff}, ${strOff + strLen}) runs past the ${dataLen} bytes after the header`);
  }
  if (typeLen > 0 && strLen > 0 && typeOff < strOff + strLen && strOff < typeOff + typeLen) {
    r.fail(16, `string section [${strOff}, ${strOff + strLen}) overlaps the type section [${typeOff}, ${typeOff + typeLen})`);
  }
  if (strLen === 0) r.fail(20, 'str_len is 0: expected a string section holding at least the empty string at offset 0');
  const strStart = hdrLen + strOff;
  if (r.bytes[strStart] !== 0) r.fail(strStart, 'expected NUL at string offset 0 (the empty name)');
  if (r.bytes[strStart + strLen - 1] !== 0) {
    r.fail(strStart + strLen - 1, 'expected the string section to end with NUL');
  }
  return { magic, version, flags, hdrLen, typeOff, typeLen, strOff, strLen };
}

function linkageOf(r: ByteReader, value: number, at: number, what: string): BtfLinkage {
  const name = BTF_LINKAGE_NAMES[value];
  if (name === undefined) r.fail(at, `${what}: unknown linkage ${value}: expected 0 (static), 1 (global) or 2 (extern)`);
  return name;
}

function readTypes(
  r: ByteReader,
  start: number,
  end: number,
  strings: Uint8Array,
  strStart: number,
): BtfType[] {
  const types: BtfType[] = [BTF_VOID];
  const refs: PendingRef[] = [];
  const name = (off: number, at: number, what: string): string => {
    const s = stringAt(strings, off);
    if (s === undefined) {
      r.fail(at, `${what}: name offset ${off} is past the end of the string table (${strings.length} bytes at 0x${strStart.toString(16)})`);
    }
    return s;
  };
  const ref = (target: number, at: number, what: string): number => {
    refs.push({ target, at, what });
    return target;
  };

  let pos = start;
  while (pos < end) {
    const id = types.length;
    if (pos + BTF_TYPE_HEADER_SIZE > end) {
      r.fail(pos, `truncated type [${id}]: expected a ${BTF_TYPE_HEADER_SIZE}-byte btf_type but the type section ends at 0x${end.toString(16)}`);
    }
    const nameOff = r.u32(pos, 'btf_type.name_off');
    const info = r.u32(pos + 4, 'btf_type.info');
    const sizeOrType = r.u32(pos + 8, 'btf_type.size/type');
    const kindNum = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const kindFlag = info >>> 31 === 1;
    const kind: BtfKindName | undefined = BTF_KIND_NAMES[kindNum];
    if (kind === undefined) {
      r.fail(pos + 4, `type [${id}] has unknown BTF kind ${kindNum}: expected 1..${BTF_KIND_NAMES.length - 1}`);
    }
    const layout = BTF_KIND_LAYOUT[kind];
    const extra = layout.fixed + layout.perVlen * vlen;
    const body = pos + BTF_TYPE_HEADER_SIZE;
    if (body + extra > end) {
      r.fail(
        body,
        `truncated type [${id}] ${kind}${layout.perVlen ? ` with vlen ${vlen}` : ''}: expected ${extra} more bytes but only ${end - body} remain in the type section`,
      );
    }
    const what = `type [${id}] ${kind}`;
    const base = { id, name: name(nameOff, pos, what), nameOff, offset: pos };

    let t: BtfType;
    switch (kind) {
      case 'INT': {
        const v = r.u32(body, 'the INT encoding word');
        const encoding = (v >>> 24) & 0x0f;
        t = {
          kind,
          ...base,
          size: sizeOrType,
          encoding,
          signed: (encoding & BTF_INT_ENCODING.SIGNED) !== 0,
          char: (encoding & BTF_INT_ENCODING.CHAR) !== 0,
          bool: (encoding & BTF_INT_ENCODING.BOOL) !== 0,
          bitOffset: (v >>> 16) & 0xff,
          bits: v & 0xff,
        };
        break;
      }
      case 'PTR':
      case 'TYPEDEF':
      case 'VOLATILE':
      case 'CONST':
      case 'RESTRICT':
      case 'TYPE_TAG':
        t = { kind, ...base, type: ref(sizeOrType, pos + 8, what) };
        break;
      case 'ARRAY':
        t = {
          kind,
          ...base,
          type: ref(r.u32(body, 'btf_array.type'), body, `${what} element`),
          indexType: ref(r.u32(body + 4, 'btf_array.index_type'), body + 4, `${what} index`),
          nelems: r.u32(body + 8, 'btf_array.nelems'),
        };
        break;
      case 'STRUCT':
      case 'UNION': {
        const members = [];
        for (let i = 0; i < vlen; i++) {
          const m = body + i * 12;
          const mWhat = `${what} member ${i}`;
          const mNameOff = r.u32(m, 'btf_member.name_off');
          const raw = r.u32(m + 8, 'btf_member.offset');
          members.push({
            name: name(mNameOff, m, mWhat),
            nameOff: mNameOff,
            type: ref(r.u32(m + 4, 'btf_member.type'), m + 4, mWhat),
            bitOffset: kindFlag ? raw & 0xffffff : raw,
            bitfieldSize: kindFlag ? raw >>> 24 : 0,
          });
        }
        t = { kind, ...base, size: sizeOrType, kindFlag, members };
        break;
      }
      case 'ENUM': {
        const values = [];
        for (let i = 0; i < vlen; i++) {
          const e = body + i * 8;
          const eNameOff = r.u32(e, 'btf_enum.name_off');
          values.push({
            name: name(eNameOff, e, `${what} value ${i}`),
            nameOff: eNameOff,
            value: kindFlag ? r.i32(e + 4, 'btf_enum.val') : r.u32(e + 4, 'btf_enum.val'),
          });
        }
        t = { kind, ...base, size: sizeOrType, signed: kindFlag, values };
        break;
      }
      case 'ENUM64': {
        const values = [];
        for (let i = 0; i < vlen; i++) {
          const e = body + i * 12;
          const eNameOff = r.u32(e, 'btf_enum64.name_off');
          const lo = BigInt(r.u32(e + 4, 'btf_enum64.val_lo32'));
          const hi = BigInt(r.u32(e + 8, 'btf_enum64.val_hi32'));
          const u = (hi << 32n) | lo;
          values.push({
            name: name(eNameOff, e, `${what} value ${i}`),
            nameOff: eNameOff,
            value: kindFlag ? BigInt.asIntN(64, u) : u,
          });
        }
        t = { kind, ...base, size: sizeOrType, signed: kindFlag, values };
        break;
      }
      case 'FWD':
        t = { kind, ...base, fwdKind: kindFlag ? 'union' : 'struct' };
        break;
      case 'FUNC':
        t = {
          kind,
          ...base,
          type: ref(sizeOrType, pos + 8, what),
          linkage: linkageOf(r, vlen, pos + 4, what),
        };
        break;
      case 'FUNC_PROTO': {
        const params = [];
        for (let i = 0; i < vlen; i++) {
          const p = body + i * 8;
          const pNameOff = r.u32(p, 'btf_param.name_off');
          const pWhat = `${what} parameter ${i}`;
          params.push({
            name: name(pNameOff, p, pWhat),
            nameOff: pNameOff,
            type: ref(r.u32(p + 4, 'btf_param.type'), p + 4, pWhat),
          });
        }
        t = { kind, ...base, ret: ref(sizeOrType, pos + 8, `${what} return`), params };
        break;
      }
      case 'VAR':
        t = {
          kind,
          ...base,
          type: ref(sizeOrType, pos + 8, what),
          linkage: linkageOf(r, r.u32(body, 'btf_var.linkage'), body, what),
        };
        break;
      case 'DATASEC': {
        const vars = [];
        for (let i = 0; i < vlen; i++) {
          const v = body + i * 12;
          vars.push({
            type: ref(r.u32(v, 'btf_var_secinfo.type'), v, `${what} variable ${i}`),
            offset: r.u32(v + 4, 'btf_var_secinfo.offset'),
            size: r.u32(v + 8, 'btf_var_secinfo.size'),
          });
        }
        t = { kind, ...base, size: sizeOrType, vars };
        break;
      }
      case 'FLOAT':
        t = { kind, ...base, size: sizeOrType };
        break;
      case 'DECL_TAG':
        t = {
          kind,
          ...base,
          type: ref(sizeOrType, pos + 8, what),
          componentIdx: r.i32(body, 'btf_decl_tag.component_idx'),
        };
        break;
    }
    types.push(t);
    pos = body + extra;
  }

  const last = types.length - 1;
  for (const { target, at, what } of refs) {
    if (target > last) {
      r.fail(at, `${what} refers to type id ${target} past the last type: expected 0..${last}`);
    }
  }
  return types;
}
