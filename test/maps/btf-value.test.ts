/**
 * Map keys and values through BTF: rendered as bpftool's btf_dumper prints them
 * (`bpftool map dump -j`, the "formatted" part), and parsed back; JSON text that
 * keeps 64-bit integers exact. The comparison with bpftool itself is in
 * kernel-diff.test.ts; these pin each rule on hand-built BTF.
 */
import { describe, expect, it } from 'vitest';
import { parseBtf } from '../../xdp/btf/btf-parse.js';
import { btfToJson, BtfValueError, jsonToBtf } from '../../xdp/btf/btf-value.js';
import type { Btf } from '../../xdp/btf/btf-types.js';
import { formatJson, parseJson } from '../../xdp/maps/json-text.js';
import { MapJsonError } from '../../xdp/maps/map-errors.js';
import { BtfBuilder } from '../btf/btf-builder.js';
import { bytes } from './helpers.js';

interface Types {
  btf: Btf;
  t: Record<string, number>;
}

function buildTypes(littleEndian = true): Types {
  const b = new BtfBuilder();
  const t: Record<string, number> = {};
  t.u8 = b.int('unsigned char', 1);
  t.char = b.int('char', 1, { signed: true });
  t.u16 = b.int('unsigned short', 2);
  t.s16 = b.int('short', 2, { signed: true });
  t.u32 = b.int('unsigned int', 4);
  t.s32 = b.int('int', 4, { signed: true });
  t.u64 = b.int('unsigned long long', 8);
  t.s64 = b.int('long long', 8, { signed: true });
  t.cchar = b.int('signed char', 1, { char: true });
  t.bool = b.int('_Bool', 1, { bool: true });
  t.u128 = b.int('__int128 unsigned', 16);
  t.u24 = b.int('u24', 4, { bits: 24 });
  t.shifted = b.int('shifted', 4, { bits: 8, offset: 4 });
  t.charArr = b.array(t.char, t.u32, 8);
  t.u8Arr = b.array(t.u8, t.u32, 4);
  t.constChar = b.ref('CONST', t.char);
  t.constCharArr = b.array(t.constChar, t.u32, 4);
  t.charTd = b.ref('TYPEDEF', t.char, 'ch_t');
  t.tdCharArr = b.array(t.charTd, t.u32, 4);
  t.matrix = b.array(b.array(t.u16, t.u32, 3), t.u32, 2);
  t.color = b.enum('color', 4, [['RED', 0], ['GREEN', 1], ['BLUE', 7]]);
  t.senum = b.enum('senum', 4, [['NEG', -5], ['ONE', 1]], true);
  t.hienum = b.enum('hienum', 4, [['HIGH', 0x80000000]]);
  t.e64 = b.enum64('e64', 8, [['HUGE', 0xffff_ffff_ffff_fff0n], ['SMALL', 3n]]);
  t.ptr = b.ref('PTR', t.u32);
  t.flt = b.float('float', 4);
  t.dbl = b.float('double', 8);
  t.bits = b.composite('STRUCT', 'bits', 8, [
    { name: 'a', type: t.u32, bitOffset: 0, bitfieldSize: 3 },
    { name: 'b', type: t.u32, bitOffset: 3, bitfieldSize: 5 },
    { name: 'c', type: t.s32, bitOffset: 8, bitfieldSize: 7 },
    { name: 'd', type: t.u64, bitOffset: 15, bitfieldSize: 40 },
  ]);
  t.inner = b.composite('STRUCT', '', 4, [
    { name: 'x', type: t.u16, bitOffset: 0 },
    { name: 'y', type: t.u16, bitOffset: 16 },
  ]);
  t.num = b.composite('UNION', 'num', 4, [
    { name: 'u', type: t.u32, bitOffset: 0 },
    { name: 'raw', type: t.u8Arr, bitOffset: 0 },
  ]);
  t.rich = b.composite('STRUCT', 'rich', 40, [
    { name: 'big', type: t.u64, bitOffset: 0 },
    { name: 'neg', type: t.s32, bitOffset: 64 },
    { name: 'color', type: t.color, bitOffset: 96 },
    { name: 'name', type: t.charArr, bitOffset: 128 },
    { name: 'pt', type: t.inner, bitOffset: 192 },
    { name: '', type: t.num, bitOffset: 224 },
    { name: 'flag', type: t.bool, bitOffset: 256 },
    { name: 'tag', type: t.cchar, bitOffset: 264 },
  ]);
  t.var = b.variable('counter', t.u32);
  t.var2 = b.variable('limit', t.u16);
  t.sec = b.datasec('.data', 8, [{ type: t.var, offset: 0, size: 4 }, { type: t.var2, offset: 4, size: 2 }]);
  return { btf: parseBtf(b.build(littleEndian), { littleEndian }), t };
}

const { btf, t } = buildTypes();
const show = (type: number, b: Uint8Array): unknown => btfToJson(btf, type, b);
const le = (n: bigint, size: number): Uint8Array => {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = Number((BigInt.asUintN(size * 8, n) >> BigInt(8 * i)) & 0xffn);
  return out;
};

describe('btfToJson: what bpftool prints', () => {
  it('integers as numbers by their signedness, 64-bit beyond 2^53 as exact bigint', () => {
    expect(show(t.u8!, bytes(200))).toBe(200);
    expect(show(t.char!, bytes(200))).toBe(-56); // clang's char is a signed INT named "char"
    expect(show(t.s16!, le(-2n, 2))).toBe(-2);
    expect(show(t.u32!, le(0xfffffffen, 4))).toBe(0xfffffffe);
    expect(show(t.s32!, le(-7n, 4))).toBe(-7);
    expect(show(t.u64!, le(2n ** 64n - 1n, 8))).toBe(2n ** 64n - 1n);
    expect(show(t.u64!, le(2n ** 53n - 1n, 8))).toBe(2 ** 53 - 1);
    expect(show(t.s64!, le(-(2n ** 60n), 8))).toBe(-(2n ** 60n));
  });

  it('bitfields, odd-sized and 128-bit integers as hex strings', () => {
    expect(show(t.u24!, bytes(0x56, 0x34, 0x12, 0xff))).toBe('0x123456');
    expect(show(t.shifted!, bytes(0xab, 0x0c, 0, 0))).toBe('0xca'); // 8 bits from bit 4
    expect(show(t.u128!, new Uint8Array(16).fill(0).map((_, i) => (i === 0 ? 1 : 0)))).toBe('0x1');
    expect(show(t.u128!, Uint8Array.from({ length: 16 }, (_, i) => (i === 8 ? 2 : i === 0 ? 1 : 0)))).toBe('0x20000000000000001');
    // a=5 (3 bits), b=17 (5 bits), c=-1 (7 bits, shown unsigned), d=0x123456789a (40 bits)
    const raw = (5n | (17n << 3n) | (0x7fn << 8n) | (0x123456789an << 15n));
    expect(show(t.bits!, le(raw, 8))).toEqual({ a: '0x5', b: '0x11', c: '0x7f', d: '0x123456789a' });
  });

  it('chars, bools, strings and arrays', () => {
    expect(show(t.cchar!, bytes(0x41))).toBe('A');
    expect(show(t.cchar!, bytes(1))).toBe('\u0001');
    expect(show(t.bool!, bytes(0, 0, 0, 0))).toBe(false);
    expect(show(t.bool!, bytes(1))).toBe(true);
    expect(show(t.charArr!, bytes(104, 105, 0, 9, 9, 9, 9, 9))).toBe('hi'); // bytes after the NUL are not shown
    expect(show(t.charArr!, bytes(104, 105, 1, 0, 0, 0, 0, 0))).toEqual([104, 105, 1, 0, 0, 0, 0, 0]); // not printable
    expect(show(t.charArr!, bytes(97, 97, 97, 97, 97, 97, 97, 97))).toEqual(new Array(8).fill(97)); // no NUL
    expect(show(t.charArr!, new Uint8Array(8))).toBe('');
    expect(show(t.constCharArr!, bytes(111, 107, 0, 0))).toBe('ok');
    expect(show(t.tdCharArr!, bytes(111, 107, 0, 0))).toEqual([111, 107, 0, 0]); // a typedef to char is not a string
    expect(show(t.u8Arr!, bytes(111, 107, 0, 0))).toEqual([111, 107, 0, 0]);
    expect(show(t.matrix!, Uint8Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? i / 2 : 0)))).toEqual([[0, 1, 2], [3, 4, 5]]);
  });

  it('bools read their own byte only (bpftool 7 reads a bool, not the int at its address)', () => {
    const raw = new Uint8Array(40);
    raw[33] = 0x41; // tag follows flag
    expect((show(t.rich!, raw) as Record<string, unknown>).flag).toBe(false);
  });

  it('enums by name, else the signed number', () => {
    expect(show(t.color!, le(7n, 4))).toBe('BLUE');
    expect(show(t.color!, le(3n, 4))).toBe(3);
    expect(show(t.color!, le(0xffffffffn, 4))).toBe(-1);
    expect(show(t.senum!, le(-5n, 4))).toBe('NEG');
    expect(show(t.hienum!, le(0x80000000n, 4))).toBe('HIGH');
    expect(show(t.e64!, le(0xffff_ffff_ffff_fff0n, 8))).toBe('HUGE');
    expect(show(t.e64!, le(0xffff_ffff_ffff_fff1n, 8))).toBe(-15);
  });

  it('structs, unions (anonymous members under ""), pointers, floats, VAR and DATASEC', () => {
    const raw = new Uint8Array(40);
    raw.set(le(123n, 8), 0);
    raw.set(le(-1n, 4), 8);
    raw.set(le(1n, 4), 12);
    raw.set([102, 111, 111, 0], 16);
    raw.set(le(0x00020001n, 4), 24);
    raw.set(le(0x04030201n, 4), 28);
    expect(show(t.rich!, raw)).toEqual({
      big: 123, neg: -1, color: 'GREEN', name: 'foo', pt: { x: 1, y: 2 }, '': { u: 0x04030201, raw: [1, 2, 3, 4] }, flag: false, tag: '\u0000',
    });
    expect(show(t.ptr!, le(0xdeadbeefn, 8))).toBe(0xdeadbeef);
    const f = new Uint8Array(4);
    new DataView(f.buffer).setFloat32(0, 1.5, true);
    expect(show(t.flt!, f)).toBe(1.5);
    expect(show(t.var!, le(9n, 4))).toEqual({ counter: 9 });
    expect(show(t.sec!, bytes(1, 0, 0, 0, 2, 0, 0, 0))).toEqual({ '.data': [{ counter: 1 }, { limit: 2 }] });
  });

  it('reads big-endian BTF in big-endian order', () => {
    const be = buildTypes(false);
    expect(btfToJson(be.btf, be.t.u32!, bytes(0, 0, 1, 2))).toBe(258);
    const raw = (5n << 61n) | (17n << 56n); // a: top 3 bits, b: next 5
    const b8 = Uint8Array.from({ length: 8 }, (_, i) => Number((raw >> BigInt(8 * (7 - i))) & 0xffn));
    expect(btfToJson(be.btf, be.t.bits!, b8)).toMatchObject({ a: '0x5', b: '0x11' });
  });

  it('names a value that is too short for its type', () => {
    expect(() => show(t.u64!, bytes(1, 2))).toThrow(BtfValueError);
  });
});

describe('jsonToBtf: back to bytes', () => {
  const round = (type: number, b: Uint8Array): Uint8Array => jsonToBtf(btf, type, show(type, b), 'v');

  it('gives back the bytes of every losslessly shown value', () => {
    const cases: [number, Uint8Array][] = [
      [t.u64!, le(2n ** 64n - 3n, 8)], [t.s64!, le(-5n, 8)], [t.s16!, le(-300n, 2)], [t.char!, bytes(0x90)],
      [t.u24!, bytes(1, 2, 3, 0)], [t.bits!, le(0x007f_1234_5678_9abcn, 8)], [t.u128!, Uint8Array.from({ length: 16 }, (_, i) => i * 7)],
      [t.matrix!, Uint8Array.from({ length: 12 }, (_, i) => i)], [t.color!, le(7n, 4)], [t.color!, le(12345n, 4)],
      [t.senum!, le(-5n, 4)], [t.e64!, le(0xffff_ffff_ffff_fff0n, 8)], [t.e64!, le(77n, 8)], [t.ptr!, le(42n, 8)],
      [t.charArr!, bytes(104, 105, 0, 0, 0, 0, 0, 0)], [t.charArr!, bytes(1, 2, 3, 4, 5, 6, 7, 8)], [t.num!, bytes(1, 2, 3, 4)],
      [t.sec!, bytes(1, 0, 0, 0, 2, 0, 0, 0)], [t.cchar!, bytes(0xe9)],
    ];
    for (const [type, b] of cases) expect(round(type, b), `type ${type}`).toEqual(b);
    const rich = new Uint8Array(40);
    rich.set(le(2n ** 63n, 8), 0);
    rich.set([120, 0], 16);
    rich[32] = 1;
    expect(round(t.rich!, rich)).toEqual(rich);
  });

  it('accepts integers as hex strings, bitfields as numbers, chars as numbers', () => {
    expect(jsonToBtf(btf, t.u32!, '0x10', 'v')).toEqual(le(16n, 4));
    expect(jsonToBtf(btf, t.bits!, { a: 1, b: 2, c: -1, d: '0x3' }, 'v')).toEqual(le(1n | (2n << 3n) | (0x7fn << 8n) | (3n << 15n), 8));
    expect(jsonToBtf(btf, t.cchar!, 65, 'v')).toEqual(bytes(65));
    expect(jsonToBtf(btf, t.charArr!, [104, 105, 0, 0, 0, 0, 0, 0], 'v')).toEqual(bytes(104, 105, 0, 0, 0, 0, 0, 0));
    expect(jsonToBtf(btf, t.color!, 'GREEN', 'v')).toEqual(le(1n, 4));
    expect(jsonToBtf(btf, t.num!, { u: 0x01020304 }, 'v')).toEqual(le(0x01020304n, 4));
  });

  it('names the JSON path and what was expected', () => {
    const bad: [number, unknown, RegExp][] = [
      [t.u8!, 256, /^f\.json, maps\.x\.entries\[0\]\.value: expected 'unsigned char': an integer 0\.\.255, got number 256$/],
      [t.s16!, 40000, /an integer -32768\.\.32767/],
      [t.u32!, 'seven', /expected 'unsigned int': an integer 0\.\.4294967295, got the string "seven"/],
      [t.u64!, 1.5, /got number 1\.5/],
      [t.charArr!, 'much too long', /a string of at most 8 characters/],
      [t.u8Arr!, [1, 2], /an array of 4 elements, got an array of 2/],
      [t.color!, 'PURPLE', /one of RED, GREEN, BLUE, or a number/],
      [t.bool!, 'yes', /true or false/],
      [t.bits!, { a: 8, b: 0, c: 0, d: 0 }, /value\.a: expected bitfield 'a' \(3 bits/],
    ];
    for (const [type, v, re] of bad) {
      let err: unknown;
      try {
        jsonToBtf(btf, type, v, 'maps.x.entries[0].value', 'f.json');
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(v)).toBeInstanceOf(BtfValueError);
      expect((err as Error).message).toMatch(re);
    }
  });

  it('names missing and unknown struct members by path', () => {
    const raw = show(t.rich!, new Uint8Array(40)) as Record<string, unknown>;
    const { pt: _pt, ...noPt } = raw;
    expect(() => jsonToBtf(btf, t.rich!, noPt, 'v', 'f.json')).toThrow(/^f\.json, v: 'struct rich': missing member "pt"$/);
    expect(() => jsonToBtf(btf, t.rich!, { ...raw, extra: 1 }, 'v')).toThrow(/'struct rich' has no member "extra"/);
    expect(() => jsonToBtf(btf, t.rich!, { ...raw, pt: { x: 1, y: 70000 } }, 'v')).toThrow(/^v\.pt\.y: expected 'unsigned short'/);
    expect(() => jsonToBtf(btf, t.rich!, { ...raw, '': {} }, 'v')).toThrow(/v\[""\]: 'union num': expected at least one/);
    expect(() => jsonToBtf(btf, t.matrix!, [[1, 2, 3], [4, 5, 'x']], 'm')).toThrow(/^m\[1\]\[2\]: /);
    expect(() => jsonToBtf(btf, t.sec!, { '.data': [{ counter: 1 }] }, 's')).toThrow(/s\["\.data"\]: expected an array of 2 variables/);
  });
});

describe('JSON text with exact 64-bit integers', () => {
  it('parses integers beyond 2^53 as bigint and writes them back as digits', () => {
    const v = parseJson('{"a": 18446744073709551615, "b": -9223372036854775808, "c": 12, "d": 1.5e3, "e": [true, null, "x\\u0041"]}');
    expect(v).toEqual({ a: 18446744073709551615n, b: -9223372036854775808n, c: 12, d: 1500, e: [true, null, 'xA'] });
    expect(formatJson(v, 0)).toBe('{"a":18446744073709551615,"b":-9223372036854775808,"c":12,"d":1500,"e":[true,null,"xA"]}');
    expect(parseJson(formatJson({ k: [{ x: 2n ** 64n - 1n }] }))).toEqual({ k: [{ x: 2n ** 64n - 1n }] });
  });

  it('says where a syntax error is', () => {
    const cases: [string, RegExp][] = [
      ['{"maps": [1, 2,]}', /^f\.json, line 1, column 16: invalid JSON: expected a value, found '\]'$/],
      ['{"a": 1\n "b": 2}', /line 2, column 2: invalid JSON: expected ',' or '}'/],
      ['{"a": 1, "a": 2}', /line 1, column 10: invalid JSON: duplicate key "a"/],
      ['"open', /unterminated string/],
      ['[1] x', /unexpected 'x' after the document/],
      ['', /expected a value, found end of text/],
      ['{"a": "\\q"}', /invalid escape/],
    ];
    for (const [text, re] of cases) {
      expect(() => parseJson(text, 'f.json')).toThrow(MapJsonError);
      expect(() => parseJson(text, 'f.json')).toThrow(re);
    }
  });
});
