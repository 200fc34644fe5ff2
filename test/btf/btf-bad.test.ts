/**
 * Hand-made malformed .BTF / .BTF.ext: each is refused with an
 * ObjectFormatError naming the section-relative offset and what was expected.
 */

import { describe, expect, it } from 'vitest';
import { ObjectFormatError } from '../../xdp/errors.js';
import {
  formatDecl,
  formatType,
  memberByName,
  parseBtf,
  parseBtfExt,
  resolveType,
  sizeOf,
  type Btf,
} from '../../xdp/btf/index.js';
import { BtfBuilder, buildBtfExt } from './btf-builder.js';

function refusal(f: () => unknown): ObjectFormatError {
  try {
    f();
  } catch (e) {
    if (e instanceof ObjectFormatError) return e;
    throw e;
  }
  throw new Error('expected an ObjectFormatError');
}

/** Expect a refusal at `offset` whose message contains every one of `parts`. */
function expectRefused(f: () => unknown, offset: number, ...parts: (string | RegExp)[]): ObjectFormatError {
  const e = refusal(f);
  expect(e.location.offset, e.message).toBe(offset);
  expect(e.message).toContain(`offset 0x${offset.toString(16)}`);
  for (const p of parts) {
    if (typeof p === 'string') expect(e.message).toContain(p);
    else expect(e.message).toMatch(p);
  }
  return e;
}

/** A small valid BTF: int, pointer, struct with 3 members. Layout noted for offsets. */
function sample(): { b: BtfBuilder; bytes: Uint8Array } {
  const b = new BtfBuilder();
  const int = b.int('int', 4, { signed: true }); // [1] at 24, 16 bytes
  b.ref('PTR', int); // [2] at 40, 12 bytes
  b.composite('STRUCT', 's', 12, [
    // [3] at 52, 12 + 36 bytes
    { name: 'a', type: int, bitOffset: 0 },
    { name: 'b', type: 2, bitOffset: 32 },
    { name: 'c', type: int, bitOffset: 64 },
  ]);
  const proto = b.funcProto(int, [['x', int]]); // [4] at 100, 20 bytes
  b.func('f', proto); // [5] at 120, 12 bytes
  return { b, bytes: b.build() };
}

const set32 = (bytes: Uint8Array, at: number, value: number) => new DataView(bytes.buffer, bytes.byteOffset).setUint32(at, value, true);
const get32 = (bytes: Uint8Array, at: number) => new DataView(bytes.buffer, bytes.byteOffset).getUint32(at, true);

describe('parseBtf refuses malformed sections', () => {
  it('accepts the sample', () => {
    const btf = parseBtf(sample().bytes, { file: 'x.o' });
    expect(btf.types.map((t) => t.kind)).toEqual(['VOID', 'INT', 'PTR', 'STRUCT', 'FUNC_PROTO', 'FUNC']);
    expect(btf.types[3]).toMatchObject({ offset: 52, name: 's', size: 12 });
  });

  it('wrong magic', () => {
    const bytes = sample().bytes;
    bytes[0] = 0x12;
    const e = expectRefused(() => parseBtf(bytes, { file: 'x.o' }), 0, 'bad BTF magic', 'expected 0xeb9f');
    expect(e.message).toMatch(/^x\.o, section \.BTF, offset 0x0: /);
    expectRefused(() => parseBtf(new Uint8Array(1)), 0, 'truncated', 'magic');
    expectRefused(() => parseBtf(new Uint8Array(0)), 0, 'truncated');
  });

  it('byte order that disagrees with the object', () => {
    expectRefused(() => parseBtf(sample().bytes, { littleEndian: false }), 0, 'little-endian but the object is big-endian');
  });

  it('version and flags', () => {
    const v = sample().bytes;
    v[2] = 2;
    expectRefused(() => parseBtf(v), 2, 'unsupported BTF version 2: expected 1');
    const f = sample().bytes;
    f[3] = 1;
    expectRefused(() => parseBtf(f), 3, 'flags');
  });

  it('header shorter than the fixed header', () => {
    expectRefused(() => parseBtf(sample().bytes.subarray(0, 20)), 4, 'hdr_len 24 runs past the end of the section (20 bytes)');
  });

  it('hdr_len past the end, and hdr_len that lies short', () => {
    const bytes = sample().bytes;
    set32(bytes, 4, bytes.length + 10);
    expectRefused(() => parseBtf(bytes), 4, `hdr_len ${bytes.length + 10} runs past the end of the section`, `expected at most ${bytes.length}`);
    const short = sample().bytes;
    set32(short, 4, 16);
    expectRefused(() => parseBtf(short), 4, 'hdr_len 16 is shorter than the 24-byte btf_header');
    // hdr_len too large by 4 but inside the section: the type/string ranges then lie.
    const lying = sample().bytes;
    set32(lying, 4, 28);
    expectRefused(() => parseBtf(lying), 20, 'string section', 'runs past');
  });

  it('type or string section outside the data, misaligned, overlapping', () => {
    const typeLen = sample().bytes;
    set32(typeLen, 12, get32(typeLen, 12) + 4096);
    expectRefused(() => parseBtf(typeLen), 12, 'type section', 'runs past');
    const strOff = sample().bytes;
    set32(strOff, 16, 0x7fffffff);
    expectRefused(() => parseBtf(strOff), 16, 'str_off 2147483647 is past');
    const align = sample().bytes;
    set32(align, 8, 2);
    expectRefused(() => parseBtf(align), 8, 'type_off 2 is not 4-byte aligned');
    const overlap = sample().bytes;
    set32(overlap, 16, 8);
    expectRefused(() => parseBtf(overlap), 16, 'overlaps the type section');
  });

  it('string table without the leading or trailing NUL, or empty', () => {
    const { bytes } = sample();
    const strStart = 24 + get32(bytes, 12);
    const noLead = bytes.slice();
    noLead[strStart] = 0x41;
    expectRefused(() => parseBtf(noLead), strStart, 'expected NUL at string offset 0');
    const noTrail = bytes.slice();
    noTrail[noTrail.length - 1] = 0x41;
    expectRefused(() => parseBtf(noTrail), noTrail.length - 1, 'expected the string section to end with NUL');
    const empty = bytes.slice();
    set32(empty, 20, 0);
    expectRefused(() => parseBtf(empty), 20, 'str_len is 0');
  });

  it('string offset past the table', () => {
    const bytes = sample().bytes;
    const strLen = get32(bytes, 20);
    set32(bytes, 24, strLen + 5); // name_off of type [1]
    expectRefused(() => parseBtf(bytes), 24, 'type [1] INT', `name offset ${strLen + 5} is past the end of the string table (${strLen} bytes`);
    const member = sample().bytes;
    set32(member, 52 + 12 + 12, 0xffffff); // name_off of member 1 of [3]
    expectRefused(() => parseBtf(member), 76, 'type [3] STRUCT member 1', 'past the end of the string table');
  });

  it('type id out of range', () => {
    const bytes = sample().bytes;
    set32(bytes, 40 + 8, 99); // PTR [2] -> 99
    expectRefused(() => parseBtf(bytes), 48, 'type [2] PTR refers to type id 99 past the last type: expected 0..5');
    const member = sample().bytes;
    set32(member, 52 + 12 + 24 + 4, 6); // member 2 type -> 6
    expectRefused(() => parseBtf(member), 92, 'type [3] STRUCT member 2 refers to type id 6');
    const param = sample().bytes;
    set32(param, 100 + 12 + 4, 0x10000);
    expectRefused(() => parseBtf(param), 116, 'FUNC_PROTO parameter 0 refers to type id 65536');
  });

  it('truncated member list (vlen that runs off the end)', () => {
    const bytes = sample().bytes;
    // Cut the type section inside struct [3]'s member list.
    const cut = bytes.slice();
    set32(cut, 12, 52 - 24 + 12 + 20); // type_len ends 20 bytes into the members
    set32(cut, 16, get32(cut, 12)); // strings start right after
    const strs = bytes.subarray(24 + get32(bytes, 12));
    const rebuilt = new Uint8Array(24 + get32(cut, 12) + strs.length);
    rebuilt.set(cut.subarray(0, 24 + get32(cut, 12)));
    rebuilt.set(strs, 24 + get32(cut, 12));
    expectRefused(() => parseBtf(rebuilt), 64, 'truncated type [3] STRUCT with vlen 3: expected 36 more bytes but only 20 remain');
    // Or raise vlen past the end of the type section.
    const vlen = sample().bytes;
    set32(vlen, 52 + 4, (4 << 24) | 200);
    expectRefused(() => parseBtf(vlen), 64, 'truncated type [3] STRUCT with vlen 200: expected 2400 more bytes');
  });

  it('type record cut inside its 12-byte header', () => {
    const { bytes } = sample();
    const cut = bytes.slice();
    set32(cut, 12, get32(bytes, 12) - 8); // last record (FUNC, 12 bytes) keeps only 4
    set32(cut, 16, get32(cut, 12) + 8); // strings where they were
    expectRefused(() => parseBtf(cut), 120, 'truncated type [5]: expected a 12-byte btf_type');
  });

  it('unknown kind', () => {
    const bytes = sample().bytes;
    set32(bytes, 40 + 4, 25 << 24);
    expectRefused(() => parseBtf(bytes), 44, 'type [2] has unknown BTF kind 25: expected 1..19');
  });

  it('unknown FUNC and VAR linkage', () => {
    const bytes = sample().bytes;
    set32(bytes, 120 + 4, (12 << 24) | 7);
    expectRefused(() => parseBtf(bytes), 124, 'type [5] FUNC: unknown linkage 7');
    const b = new BtfBuilder();
    b.variable('v', b.int('int', 4), 9);
    expectRefused(() => parseBtf(b.build()), 24 + 16 + 12, 'type [2] VAR: unknown linkage 9');
  });
});

describe('helpers refuse cycles and sizeless types instead of looping', () => {
  function cyclic(): Btf {
    const b = new BtfBuilder();
    b.ref('TYPEDEF', 2, 'a'); // [1] -> [2]
    b.ref('CONST', 1); // [2] -> [1]
    b.ref('PTR', 3); // [3] -> [3]
    b.array(4, 1, 2); // [4] array of itself
    const s = b.composite('STRUCT', 's', 8, [{ name: '', type: 6, bitOffset: 0 }]); // [5] anon member -> [6]
    b.composite('UNION', '', 8, [{ name: '', type: s, bitOffset: 0 }]); // [6] -> [5]
    b.funcProto(7, [['p', 8]]); // [7] returns itself
    b.ref('PTR', 7); // [8]
    return parseBtf(b.build(), { file: 'cyc.o' });
  }

  it('resolveType / sizeOf / formatType / memberByName on cycles', () => {
    const btf = cyclic();
    expect(refusal(() => resolveType(btf, 1)).message).toMatch(/reference cycle/);
    expect(refusal(() => sizeOf(btf, 1)).message).toMatch(/reference cycle/);
    expect(refusal(() => sizeOf(btf, 4)).message).toMatch(/reference cycle/);
    expect(sizeOf(btf, 3)).toBe(8);
    // A typedef renders as its name, so the typedef/const loop is only a cycle for resolveType.
    expect(formatType(btf, 1)).toBe('a');
    expect(formatType(btf, 2)).toBe('const a');
    for (const id of [3, 4, 7, 8]) {
      expect(refusal(() => formatType(btf, id)).message).toMatch(/reference cycle/);
      expect(refusal(() => formatDecl(btf, id, 'x')).message).toMatch(/reference cycle/);
    }
    expect(refusal(() => memberByName(btf, 5, 'missing')).message).toMatch(/contains itself/);
    expect(refusal(() => memberByName(btf, 3, 'x')).message).toContain('expected STRUCT or UNION');
  });

  it('sizeOf refuses FWD, FUNC, void and sizes beyond 32 bits', () => {
    const b = new BtfBuilder();
    const fwd = b.fwd('opaque');
    const int = b.int('long', 8, { signed: true });
    const proto = b.funcProto(int, []);
    const fn = b.func('f', proto);
    const big = b.array(int, int, 0x80000000);
    const btf = parseBtf(b.build());
    expect(refusal(() => sizeOf(btf, fwd)).message).toContain("FWD 'opaque' has no size");
    expect(refusal(() => sizeOf(btf, fn)).message).toContain("FUNC 'f' has no size");
    expect(refusal(() => sizeOf(btf, 0)).message).toContain('VOID has no size');
    expect(refusal(() => sizeOf(btf, big)).message).toContain('does not fit in 32 bits');
    expect(refusal(() => sizeOf(btf, 99)).message).toContain('type id 99 is out of range');
  });
});

describe('parseBtfExt refuses malformed sections', () => {
  function extSample(lineRecSize = 16) {
    const b = new BtfBuilder();
    const int = b.int('int', 4, { signed: true });
    const fn = b.func('prog', b.funcProto(int, []));
    const sec = b.strings.add('xdp');
    const file = b.strings.add('/src/prog.c');
    const text = b.strings.add('  return XDP_PASS;');
    const field = b.strings.add('0:1');
    const btf = parseBtf(b.build());
    const ext = buildBtfExt({
      funcInfo: { recSize: 8, sections: [{ nameOff: sec, records: [[0, fn]] }] },
      lineInfo: {
        recSize: lineRecSize,
        sections: [
          {
            nameOff: sec,
            records: [
              [0, file, text, (7 << 10) | 3],
              [16, file, text, (8 << 10) | 12],
            ],
          },
        ],
      },
      coreRelo: { recSize: 16, sections: [{ nameOff: sec, records: [[8, int, field, 0]] }] },
    });
    return { btf, ext, fn, int };
  }
  // Layout of extSample(): header 32; func_info at 32 (rec_size 32, section header 36,
  // record 44); line_info at 52 (rec_size 52, section header 56, records 64 and 80);
  // core_relo at 96 (rec_size 96, section header 100, record 108).

  it('accepts the sample and larger rec_size (extra bytes skipped)', () => {
    const { btf, ext, fn, int } = extSample();
    const parsed = parseBtfExt(ext, btf);
    expect(parsed.funcInfo.get('xdp')).toEqual([{ insnOff: 0, typeId: fn, name: 'prog' }]);
    expect(parsed.lineInfo.get('xdp')).toEqual([
      { insnOff: 0, file: '/src/prog.c', line: 7, col: 3, source: '  return XDP_PASS;' },
      { insnOff: 16, file: '/src/prog.c', line: 8, col: 12, source: '  return XDP_PASS;' },
    ]);
    expect(parsed.coreRelo.get('xdp')).toEqual([
      { insnOff: 8, typeId: int, accessStr: '0:1', kind: 0, kindName: 'FIELD_BYTE_OFFSET' },
    ]);
    const wide = extSample(24);
    expect(parseBtfExt(wide.ext, wide.btf).lineInfo).toEqual(parsed.lineInfo);
  });

  it('line_info rec_size too small', () => {
    const { btf, ext } = extSample(12);
    expectRefused(() => parseBtfExt(ext, btf, { file: 'p.o' }), 52, 'line_info rec_size 12 is smaller than the 16-byte record');
  });

  it('wrong magic, short header, header past the end', () => {
    const { btf, ext } = extSample();
    const magic = ext.slice();
    magic[1] = 0;
    expectRefused(() => parseBtfExt(magic, btf), 0, 'bad BTF.ext magic');
    const short = ext.slice();
    set32(short, 4, 20);
    expectRefused(() => parseBtfExt(short, btf), 4, 'hdr_len 20 is shorter');
    const long = ext.slice();
    set32(long, 4, 4096);
    expectRefused(() => parseBtfExt(long, btf), 4, 'hdr_len 4096 runs past the end');
    expectRefused(() => parseBtfExt(ext.subarray(0, 3), btf), 3, 'truncated: expected the BTF.ext header flags');
  });

  it('info block past the end, num_info past the block, truncated section header', () => {
    const { btf, ext } = extSample();
    const len = ext.slice();
    set32(len, 20, 4000); // line_info_len
    expectRefused(() => parseBtfExt(len, btf), 20, 'line_info [20, 4020) runs past');
    const num = ext.slice();
    set32(num, 60, 1000); // line_info num_info
    expectRefused(() => parseBtfExt(num, btf), 60, "line_info for 'xdp': num_info 1000 × rec_size 16 runs past the end of the block (32 bytes left)");
    const hdr = ext.slice();
    set32(hdr, 12, 16); // func_info_len: 4 + 8 header + 4 of its record -> the record is cut
    expectRefused(() => parseBtfExt(hdr, btf), 40, "func_info for 'xdp': num_info 1 × rec_size 8 runs past");
    const tiny = ext.slice();
    set32(tiny, 12, 8); // rec_size + 4 bytes: section header cut
    expectRefused(() => parseBtfExt(tiny, btf), 36, 'truncated func_info: expected an 8-byte section header');
  });

  it('bad string offsets, type ids, kinds', () => {
    const { btf, ext } = extSample();
    const sec = ext.slice();
    set32(sec, 56, 0xfffff); // line_info sec_name_off
    expectRefused(() => parseBtfExt(sec, btf), 56, 'line_info section name: string offset 1048575 is past the end of the .BTF string table');
    const src = ext.slice();
    set32(src, 64 + 8, 0xfffff); // line_off of record 0
    expectRefused(() => parseBtfExt(src, btf), 72, 'line_info source line');
    const fnType = ext.slice();
    set32(fnType, 48, 1); // func_info type_id -> INT
    expectRefused(() => parseBtfExt(fnType, btf), 48, 'func_info: type [1] is INT, expected FUNC');
    const fnRange = ext.slice();
    set32(fnRange, 48, 77);
    expectRefused(() => parseBtfExt(fnRange, btf), 48, 'func_info: type id 77 is past the last .BTF type');
    const kind = ext.slice();
    set32(kind, 96 + 12 + 12, 42); // core_relo kind
    expectRefused(() => parseBtfExt(kind, btf), 120, 'core_relo: unknown relocation kind 42');
  });

  it('byte order that disagrees with .BTF', () => {
    const { btf, ext } = extSample();
    const swapped = ext.slice();
    swapped[0] = 0xeb;
    swapped[1] = 0x9f;
    expectRefused(() => parseBtfExt(swapped, btf), 0, 'big-endian but expected little-endian');
  });
});
