/**
 * Test-only: build .BTF and .BTF.ext section bytes by hand (either byte order),
 * so tests can cover kinds clang 14 does not emit (ENUM64, signed ENUM, FWD
 * union, ...) and craft malformed input at known offsets.
 */

import { BTF_KIND, type BtfKindName } from '../../xdp/btf/btf-types.js';

export class StringTable {
  private readonly parts: string[] = [''];
  private readonly offsets = new Map<string, number>([['', 0]]);
  private size = 1;

  add(s: string): number {
    const known = this.offsets.get(s);
    if (known !== undefined) return known;
    const off = this.size;
    this.offsets.set(s, off);
    this.parts.push(s);
    this.size += Buffer.byteLength(s) + 1;
    return off;
  }

  bytes(): Uint8Array {
    return new Uint8Array(Buffer.from(this.parts.map((p) => p + '\0').join('')));
  }
}

/** A type record as u32 words: name_off, info, size/type, then kind data. */
export interface RawType {
  words: number[];
}

export class BtfBuilder {
  readonly strings = new StringTable();
  readonly types: RawType[] = [];

  /** Append a raw record; returns its type id. */
  raw(kind: BtfKindName | number, name: string, vlen: number, kflag: boolean, sizeOrType: number, extra: number[] = []): number {
    const k = typeof kind === 'number' ? kind : BTF_KIND[kind];
    const info = ((kflag ? 1 : 0) << 31) | (k << 24) | (vlen & 0xffff);
    this.types.push({ words: [this.strings.add(name), info >>> 0, sizeOrType >>> 0, ...extra.map((w) => w >>> 0)] });
    return this.types.length;
  }

  int(name: string, size: number, opts: { signed?: boolean; char?: boolean; bool?: boolean; bits?: number; offset?: number } = {}): number {
    const enc = (opts.signed ? 1 : 0) | (opts.char ? 2 : 0) | (opts.bool ? 4 : 0);
    return this.raw('INT', name, 0, false, size, [(enc << 24) | ((opts.offset ?? 0) << 16) | (opts.bits ?? size * 8)]);
  }
  ref(kind: 'PTR' | 'TYPEDEF' | 'VOLATILE' | 'CONST' | 'RESTRICT' | 'TYPE_TAG', type: number, name = ''): number {
    return this.raw(kind, name, 0, false, type);
  }
  array(type: number, indexType: number, nelems: number): number {
    return this.raw('ARRAY', '', 0, false, 0, [type, indexType, nelems]);
  }
  composite(
    kind: 'STRUCT' | 'UNION',
    name: string,
    size: number,
    members: { name: string; type: number; bitOffset: number; bitfieldSize?: number }[],
  ): number {
    const kflag = members.some((m) => (m.bitfieldSize ?? 0) > 0);
    const extra = members.flatMap((m) => [
      this.strings.add(m.name),
      m.type,
      kflag ? ((m.bitfieldSize ?? 0) << 24) | m.bitOffset : m.bitOffset,
    ]);
    return this.raw(kind, name, members.length, kflag, size, extra);
  }
  enum(name: string, size: number, values: [string, number][], signed = false): number {
    return this.raw('ENUM', name, values.length, signed, size, values.flatMap(([n, v]) => [this.strings.add(n), v]));
  }
  enum64(name: string, size: number, values: [string, bigint][], signed = false): number {
    const extra = values.flatMap(([n, v]) => {
      const u = BigInt.asUintN(64, v);
      return [this.strings.add(n), Number(u & 0xffffffffn), Number(u >> 32n)];
    });
    return this.raw('ENUM64', name, values.length, signed, size, extra);
  }
  fwd(name: string, union = false): number {
    return this.raw('FWD', name, 0, union, 0);
  }
  func(name: string, proto: number, linkage = 1): number {
    return this.raw('FUNC', name, linkage, false, proto);
  }
  funcProto(ret: number, params: [string, number][]): number {
    return this.raw('FUNC_PROTO', '', params.length, false, ret, params.flatMap(([n, t]) => [this.strings.add(n), t]));
  }
  variable(name: string, type: number, linkage = 1): number {
    return this.raw('VAR', name, 0, false, type, [linkage]);
  }
  datasec(name: string, size: number, vars: { type: number; offset: number; size: number }[]): number {
    return this.raw('DATASEC', name, vars.length, false, size, vars.flatMap((v) => [v.type, v.offset, v.size]));
  }
  float(name: string, size: number): number {
    return this.raw('FLOAT', name, 0, false, size);
  }
  declTag(name: string, type: number, componentIdx: number): number {
    return this.raw('DECL_TAG', name, 0, false, type, [componentIdx]);
  }

  /** Section bytes: 24-byte header, types, strings. */
  build(littleEndian = true): Uint8Array {
    const typeWords = this.types.flatMap((t) => t.words);
    const strs = this.strings.bytes();
    const typeLen = typeWords.length * 4;
    const out = new Uint8Array(24 + typeLen + strs.length);
    const v = new DataView(out.buffer);
    v.setUint16(0, 0xeb9f, littleEndian);
    v.setUint8(2, 1);
    v.setUint8(3, 0);
    v.setUint32(4, 24, littleEndian);
    v.setUint32(8, 0, littleEndian);
    v.setUint32(12, typeLen, littleEndian);
    v.setUint32(16, typeLen, littleEndian);
    v.setUint32(20, strs.length, littleEndian);
    typeWords.forEach((w, i) => v.setUint32(24 + i * 4, w, littleEndian));
    out.set(strs, 24 + typeLen);
    return out;
  }
}

export interface ExtBlock {
  recSize: number;
  /** Per ELF section: name offset (in the .BTF strings) and records as u32 words. */
  sections: { nameOff: number; numInfo?: number; records: number[][] }[];
}

/** .BTF.ext bytes with a 32-byte header (func_info, line_info, core_relo). */
export function buildBtfExt(
  blocks: { funcInfo?: ExtBlock; lineInfo?: ExtBlock; coreRelo?: ExtBlock },
  littleEndian = true,
): Uint8Array {
  const encode = (b: ExtBlock | undefined): number[] => {
    if (!b) return [];
    const words = [b.recSize];
    for (const s of b.sections) {
      words.push(s.nameOff, s.numInfo ?? s.records.length);
      for (const r of s.records) {
        const padded = [...r];
        while (padded.length * 4 < b.recSize) padded.push(0);
        words.push(...padded);
      }
    }
    return words;
  };
  const f = encode(blocks.funcInfo);
  const l = encode(blocks.lineInfo);
  const c = encode(blocks.coreRelo);
  const words = [...f, ...l, ...c];
  const hdr = 32;
  const out = new Uint8Array(hdr + words.length * 4);
  const v = new DataView(out.buffer);
  v.setUint16(0, 0xeb9f, littleEndian);
  v.setUint8(2, 1);
  v.setUint32(4, hdr, littleEndian);
  v.setUint32(8, 0, littleEndian);
  v.setUint32(12, f.length * 4, littleEndian);
  v.setUint32(16, f.length * 4, littleEndian);
  v.setUint32(20, l.length * 4, littleEndian);
  v.setUint32(24, (f.length + l.length) * 4, littleEndian);
  v.setUint32(28, c.length * 4, littleEndian);
  words.forEach((w, i) => v.setUint32(hdr + i * 4, w >>> 0, littleEndian));
  return out;
}
