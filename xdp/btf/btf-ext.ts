/**
 * parseBtfExt: the .BTF.ext section → func_info, line_info and CO-RE
 * relocation records, keyed by the ELF section (program) they describe.
 *
 * Layout (Documentation/bpf/btf.rst, "BTF ELF file format"; records from
 * include/uapi/linux/bpf.h):
 *   struct btf_ext_header { u16 magic; u8 version; u8 flags; u32 hdr_len;
 *     u32 func_info_off, func_info_len, line_info_off, line_info_len;
 *     u32 core_relo_off, core_relo_len;   // only when hdr_len says so }
 * Each info block: u32 rec_size, then per ELF section
 *   { u32 sec_name_off; u32 num_info; u8 records[num_info * rec_size]; }
 * Names are offsets into the .BTF string table. insn_off is in bytes in an
 * object file (libbpf turns it into an instruction index before loading).
 */

import { ByteReader, stringAt } from '../bytes/byte-reader.js';
import { detectByteOrder } from './btf-parse.js';
import type { Btf } from './btf-types.js';

export const BTF_EXT_SECTION = '.BTF.ext';

export interface BtfExtHeader {
  readonly magic: number;
  readonly version: number;
  readonly flags: number;
  readonly hdrLen: number;
  readonly funcInfoOff: number;
  readonly funcInfoLen: number;
  readonly lineInfoOff: number;
  readonly lineInfoLen: number;
  /** Present when hdr_len ≥ 32. */
  readonly coreReloOff?: number;
  readonly coreReloLen?: number;
}

export interface BtfFuncInfo {
  /** Byte offset of the function's first instruction inside its ELF section. */
  readonly insnOff: number;
  /** The FUNC type. */
  readonly typeId: number;
  /** The FUNC's name. */
  readonly name: string;
}

export interface BtfLineInfo {
  /** Byte offset of the instruction inside its ELF section. */
  readonly insnOff: number;
  readonly file: string;
  /** line_col >> 10. */
  readonly line: number;
  /** line_col & 0x3ff. */
  readonly col: number;
  /** The C source line text clang recorded (line_off). */
  readonly source: string;
}

/** enum bpf_core_relo_kind (include/uapi/linux/bpf.h), index = kind number. */
export const BPF_CORE_RELO_KINDS = [
  'FIELD_BYTE_OFFSET',
  'FIELD_BYTE_SIZE',
  'FIELD_EXISTS',
  'FIELD_SIGNED',
  'FIELD_LSHIFT_U64',
  'FIELD_RSHIFT_U64',
  'TYPE_ID_LOCAL',
  'TYPE_ID_TARGET',
  'TYPE_EXISTS',
  'TYPE_SIZE',
  'ENUMVAL_EXISTS',
  'ENUMVAL_VALUE',
  'TYPE_MATCHES',
] as const;
export type BpfCoreReloKind = (typeof BPF_CORE_RELO_KINDS)[number];

export interface BtfCoreRelo {
  /** Byte offset of the instruction to patch inside its ELF section. */
  readonly insnOff: number;
  /** The root type the access string starts from. */
  readonly typeId: number;
  /** Access string such as "0:1:2" (member/array indices). */
  readonly accessStr: string;
  readonly kind: number;
  readonly kindName: BpfCoreReloKind;
}

export interface BtfExt {
  readonly header: BtfExtHeader;
  readonly funcInfo: Map<string, BtfFuncInfo[]>;
  readonly lineInfo: Map<string, BtfLineInfo[]>;
  readonly coreRelo: Map<string, BtfCoreRelo[]>;
}

export interface ParseBtfExtOptions {
  file?: string;
  /** Byte order of the object; defaults to the .BTF section's. */
  littleEndian?: boolean;
}

/** Smallest hdr_len: through line_info_len. */
const EXT_HEADER_MIN = 24;
/** hdr_len that includes core_relo_off/len. */
const EXT_HEADER_CORE = 32;

const FUNC_INFO_SIZE = 8;
const LINE_INFO_SIZE = 16;
const CORE_RELO_SIZE = 16;

export function parseBtfExt(bytes: Uint8Array, btf: Btf, opts: ParseBtfExtOptions = {}): BtfExt {
  const file = opts.file ?? btf.file;
  const probe = new ByteReader(bytes, true, { file, section: BTF_EXT_SECTION });
  const littleEndian = detectByteOrder(probe, 0, 'BTF.ext');
  const expected = opts.littleEndian ?? btf.littleEndian;
  if (littleEndian !== expected) {
    probe.fail(0, `BTF.ext magic says ${littleEndian ? 'little' : 'big'}-endian but expected ${expected ? 'little' : 'big'}-endian`);
  }
  const r: ByteReader = new ByteReader(bytes, littleEndian, { file, section: BTF_EXT_SECTION });
  const header = readExtHeader(r);
  const str = (off: number, at: number, what: string): string => {
    const s = stringAt(btf.strings, off);
    if (s === undefined) {
      r.fail(at, `${what}: string offset ${off} is past the end of the .BTF string table (${btf.strings.length} bytes)`);
    }
    return s;
  };
  const typeIdAt = (id: number, at: number, what: string): number => {
    if (id >= btf.types.length) {
      r.fail(at, `${what}: type id ${id} is past the last .BTF type: expected 0..${btf.types.length - 1}`);
    }
    return id;
  };

  const funcInfo = readInfoBlock(r, header.hdrLen, header.funcInfoOff, header.funcInfoLen, 8, 'func_info', FUNC_INFO_SIZE, str, (at) => {
    const insnOff = r.u32(at, 'bpf_func_info.insn_off');
    const typeId = typeIdAt(r.u32(at + 4, 'bpf_func_info.type_id'), at + 4, 'func_info');
    const t = btf.types[typeId]!;
    if (t.kind !== 'FUNC') r.fail(at + 4, `func_info: type [${typeId}] is ${t.kind}, expected FUNC`);
    return { insnOff, typeId, name: t.name };
  });
  const lineInfo = readInfoBlock(r, header.hdrLen, header.lineInfoOff, header.lineInfoLen, 16, 'line_info', LINE_INFO_SIZE, str, (at) => {
    const insnOff = r.u32(at, 'bpf_line_info.insn_off');
    const fileName = str(r.u32(at + 4, 'bpf_line_info.file_name_off'), at + 4, 'line_info file name');
    const source = str(r.u32(at + 8, 'bpf_line_info.line_off'), at + 8, 'line_info source line');
    const lineCol = r.u32(at + 12, 'bpf_line_info.line_col');
    return { insnOff, file: fileName, line: lineCol >>> 10, col: lineCol & 0x3ff, source };
  });
  const coreRelo =
    header.coreReloOff !== undefined && header.coreReloLen !== undefined
      ? readInfoBlock(r, header.hdrLen, header.coreReloOff, header.coreReloLen, 24, 'core_relo', CORE_RELO_SIZE, str, (at) => {
          const insnOff = r.u32(at, 'bpf_core_relo.insn_off');
          const typeId = typeIdAt(r.u32(at + 4, 'bpf_core_relo.type_id'), at + 4, 'core_relo');
          const accessStr = str(r.u32(at + 8, 'bpf_core_relo.access_str_off'), at + 8, 'core_relo access string');
          const kind = r.u32(at + 12, 'bpf_core_relo.kind');
          const kindName = BPF_CORE_RELO_KINDS[kind];
          if (kindName === undefined) {
            r.fail(at + 12, `core_relo: unknown relocation kind ${kind}: expected 0..${BPF_CORE_RELO_KINDS.length - 1}`);
          }
          return { insnOff, typeId, accessStr, kind, kindName };
        })
      : new Map<string, BtfCoreRelo[]>();
  return { header, funcInfo, lineInfo, coreRelo };
}

function readExtHeader(r: ByteReader): BtfExtHeader {
  const magic = r.u16(0, 'the BTF.ext magic');
  const version = r.u8(2, 'the BTF.ext version');
  if (version !== 1) r.fail(2, `unsupported BTF.ext version ${version}: expected 1`);
  const flags = r.u8(3, 'the BTF.ext header flags');
  if (flags !== 0) r.fail(3, `unsupported BTF.ext header flags 0x${flags.toString(16)}: expected 0`);
  const hdrLen = r.u32(4, 'hdr_len');
  if (hdrLen < EXT_HEADER_MIN) {
    r.fail(4, `hdr_len ${hdrLen} is shorter than the ${EXT_HEADER_MIN}-byte btf_ext_header (through line_info_len)`);
  }
  if (hdrLen > r.length) {
    r.fail(4, `hdr_len ${hdrLen} runs past the end of the section (${r.length} bytes): expected at most ${r.length}`);
  }
  const base = {
    magic,
    version,
    flags,
    hdrLen,
    funcInfoOff: r.u32(8, 'func_info_off'),
    funcInfoLen: r.u32(12, 'func_info_len'),
    lineInfoOff: r.u32(16, 'line_info_off'),
    lineInfoLen: r.u32(20, 'line_info_len'),
  };
  if (hdrLen < EXT_HEADER_CORE) return base;
  return { ...base, coreReloOff: r.u32(24, 'core_relo_off'), coreReloLen: r.u32(28, 'core_relo_len') };
}

/**
 * One info block: `u32 rec_size` then per-section groups of records. `readRecord`
 * gets the record's section offset; bytes past the known record size are skipped.
 */
function readInfoBlock<T>(
  r: ByteReader,
  hdrLen: number,
  off: number,
  len: number,
  /** Offset of the header's *_off field (the *_len field follows it). */
  fieldAt: number,
  what: string,
  minRecSize: number,
  str: (off: number, at: number, what: string) => string,
  readRecord: (at: number) => T,
): Map<string, T[]> {
  const out = new Map<string, T[]>();
  if (len === 0) return out;
  const start = hdrLen + off;
  const end = start + len;
  const dataLen = r.length - hdrLen;
  if (off > dataLen) r.fail(fieldAt, `${what}_off ${off} is past the ${dataLen} bytes after the header`);
  if (off + len > dataLen) {
    r.fail(fieldAt + 4, `${what} [${off}, ${off + len}) runs past the ${dataLen} bytes after the header`);
  }
  if (len < 4) r.fail(start, `${what} is ${len} bytes: expected at least the 4-byte rec_size`);
  const recSize = r.u32(start, `${what} rec_size`);
  if (recSize < minRecSize) {
    r.fail(start, `${what} rec_size ${recSize} is smaller than the ${minRecSize}-byte record: expected at least ${minRecSize}`);
  }
  let pos = start + 4;
  while (pos < end) {
    if (pos + 8 > end) {
      r.fail(pos, `truncated ${what}: expected an 8-byte section header {sec_name_off, num_info} but the block ends at 0x${end.toString(16)}`);
    }
    const secName = str(r.u32(pos, `${what} sec_name_off`), pos, `${what} section name`);
    const numInfo = r.u32(pos + 4, `${what} num_info`);
    const recordsAt = pos + 8;
    if (numInfo * recSize > end - recordsAt) {
      r.fail(
        pos + 4,
        `${what} for '${secName}': num_info ${numInfo} × rec_size ${recSize} runs past the end of the block (${end - recordsAt} bytes left)`,
      );
    }
    let list = out.get(secName);
    if (!list) out.set(secName, (list = []));
    for (let i = 0; i < numInfo; i++) list.push(readRecord(recordsAt + i * recSize));
    pos = recordsAt + numInfo * recSize;
  }
  return out;
}
