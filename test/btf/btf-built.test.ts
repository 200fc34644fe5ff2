/**
 * Hand-built BTF covering every kind, including ones clang 14 does not emit
 * (ENUM64, signed ENUM, FWD union, extern linkage): the model, both byte
 * orders, C rendering, and the raw dump against bpftool reading the raw file.
 */

import { afterAll, describe, expect, it } from 'vitest';
import {
  BTF_KIND,
  BTF_KIND_NAMES,
  findDatasec,
  findVar,
  formatBtfRaw,
  formatFuncSignature,
  formatRawType,
  formatType,
  parseBtf,
  resolveType,
  sizeOf,
  typesOfKind,
} from '../../xdp/btf/index.js';
import { everyKind } from './samples.js';
import { bpftoolRaw, cleanupScratch, scratchFile, TOOLS } from './tools.js';

afterAll(cleanupScratch);

if (!TOOLS.bpftool) console.log('btf-built: skipping bpftool comparison: bpftool not found');

describe('every kind, hand built', () => {
  it('kind tables are consistent', () => {
    for (const [name, num] of Object.entries(BTF_KIND)) {
      if (name !== 'UNKN') expect(BTF_KIND_NAMES[num]).toBe(name);
    }
  });

  it('parses to the expected model', () => {
    const btf = parseBtf(everyKind().build());
    expect(btf.types.length).toBe(40);
    expect(btf.types[2]).toMatchObject({ kind: 'INT', char: true, signed: false, encoding: 2 });
    expect(btf.types[3]).toMatchObject({ kind: 'INT', bool: true, encoding: 4 });
    expect(btf.types[4]).toMatchObject({ kind: 'INT', bits: 12, bitOffset: 4 });
    expect(btf.types[7]).toMatchObject({
      kind: 'STRUCT',
      kindFlag: true,
      members: [
        { name: 'len', bitOffset: 0, bitfieldSize: 0 },
        { name: 'flags', bitOffset: 32, bitfieldSize: 3 },
        { name: 'more', bitOffset: 35, bitfieldSize: 29 },
        { name: 'p', bitOffset: 64, bitfieldSize: 0 },
      ],
    });
    expect(btf.types[9]).toMatchObject({ signed: false, values: [{ value: 0 }, { value: 0xffffffff }] });
    expect(btf.types[10]).toMatchObject({ signed: true, values: [{ name: 'DOWN', value: -1 }, { value: 1 }] });
    expect(btf.types[11]).toMatchObject({ kind: 'ENUM64', values: [{ value: 0xfedcba9876543210n }, { value: 1n }] });
    expect(btf.types[12]).toMatchObject({ signed: true, values: [{ value: -5n }, { value: 1n << 40n }] });
    expect(btf.types[14]).toMatchObject({ kind: 'FWD', fwdKind: 'union' });
    expect(btf.types[24]).toMatchObject({ kind: 'FUNC', linkage: 'static', name: 'helper' });
    expect(btf.types[25]).toMatchObject({ kind: 'FUNC', linkage: 'extern' });
    expect(btf.types[27]).toMatchObject({ kind: 'VAR', linkage: 'static' });
    expect(btf.types[33]).toMatchObject({ kind: 'DECL_TAG', componentIdx: 1, type: 22 });
    expect(findDatasec(btf, '.data')!.vars).toEqual([
      { type: 26, offset: 0, size: 4 },
      { type: 27, offset: 8, size: 4 },
    ]);
    expect(findVar(btf, 'secret')).toMatchObject({ offset: 8, size: 4, datasec: { name: '.data' } });
    expect(findVar(btf, 'nothing')).toBeUndefined();
    expect(typesOfKind(btf, 'FUNC').map((f) => f.name)).toEqual(['main_fn', 'helper', 'ext_fn']);
  });

  it('big-endian bytes give the same model', () => {
    const le = parseBtf(everyKind().build(true));
    const be = parseBtf(everyKind().build(false), { littleEndian: false });
    expect(be.littleEndian).toBe(false);
    expect(be.types).toEqual(le.types);
    expect(formatBtfRaw(be)).toBe(formatBtfRaw(le));
  });

  it('sizes and resolution', () => {
    const btf = parseBtf(everyKind().build());
    expect(sizeOf(btf, 7)).toBe(16);
    expect(sizeOf(btf, 6)).toBe(6);
    expect(sizeOf(btf, 38)).toBe(12);
    expect(sizeOf(btf, 39)).toBe(8);
    expect(sizeOf(btf, 17)).toBe(4);
    expect(sizeOf(btf, 19)).toBe(8);
    expect(sizeOf(btf, 26)).toBe(4);
    expect(sizeOf(btf, 29)).toBe(16);
    expect(sizeOf(btf, 11)).toBe(8);
    expect(sizeOf(btf, 31)).toBe(8);
    expect(resolveType(btf, 17).id).toBe(1);
    expect(resolveType(btf, 34).id).toBe(1);
    expect(resolveType(btf, 19).id).toBe(18);
  });

  it('renders C', () => {
    const btf = parseBtf(everyKind().build());
    const c = (id: number) => formatType(btf, id);
    expect(c(6)).toBe('unsigned char[6]');
    expect(c(8)).toBe('union {...}');
    expect(c(12)).toBe('enum sbig');
    expect(c(13)).toBe('struct later');
    expect(c(14)).toBe('union ulater');
    expect(c(17)).toBe('const volatile myint');
    expect(c(18)).toBe('const volatile myint *');
    expect(c(19)).toBe('const volatile myint * restrict');
    expect(c(20)).toBe('struct pkt *');
    expect(c(21)).toBe('int (struct pkt * ctx, myint n)');
    expect(formatFuncSignature(btf, 22)).toBe('int main_fn(struct pkt * ctx, myint n)');
    expect(formatFuncSignature(btf, 24)).toBe('void helper(int * fmt, ...)');
    expect(c(27)).toBe('static myint secret');
    expect(c(28)).toBe('extern unsigned char imported[6]');
    expect(c(29)).toBe('SEC(".data")');
    expect(c(31)).toBe('double');
    expect(c(32)).toBe('__attribute__((btf_decl_tag("hot")))');
    expect(c(35)).toBe('__attribute__((btf_type_tag("user"))) int *');
    expect(c(36)).toBe('struct later *');
    expect(c(37)).toBe('void *');
    expect(c(38)).toBe('unsigned char[2][6]');
    expect(c(39)).toBe('unsigned char (*)[2][6]');
    expect(formatRawType(btf, 0)).toBe("[0] UNKNOWN '(anon)'");
  });

  it.skipIf(!TOOLS.bpftool)('raw dump equals bpftool reading the raw BTF file', () => {
    const bytes = everyKind().build();
    const path = scratchFile('every-kind.btf', bytes);
    expect(formatBtfRaw(parseBtf(bytes)).split('\n')).toEqual(bpftoolRaw(path).split('\n'));
  });
});
