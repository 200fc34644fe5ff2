/**
 * BTF-defined map definitions: compiled programs give the expected attributes,
 * and hand-built definitions of the wrong shape are refused naming the member.
 */

import { afterAll, describe, expect, it } from 'vitest';
import { ObjectFormatError } from '../../xdp/errors.js';
import { parseBtf, readBtfMaps, readMapDef, sizeOf, type Btf, type BtfMapDef } from '../../xdp/btf/index.js';
import { FLOWS, MAPS } from './programs.js';
import { cleanupScratch, compile, TOOLS } from './tools.js';
import { BtfBuilder } from './btf-builder.js';

afterAll(cleanupScratch);

if (!TOOLS.clang) console.log('btf-maps: skipping compiled-program map tests: clang not found');

function mapsOf(source: typeof FLOWS): { btf: Btf; defs: Map<string, BtfMapDef> } {
  const c = compile(source);
  const btf = parseBtf(c.sections.get('.BTF')!, { file: c.objectPath });
  return { btf, defs: new Map(readBtfMaps(btf).map((m) => [m.name, m.def])) };
}

describe.skipIf(!TOOLS.clang)('map definitions from compiled programs', () => {
  it('flows: pinned hash with struct key/value, per-CPU array', () => {
    const { btf, defs } = mapsOf(FLOWS);
    expect([...defs.keys()]).toEqual(['flows', 'counters']);
    const flows = defs.get('flows')!;
    expect(flows).toMatchObject({ type: 1, maxEntries: 1024, keySize: 16, valueSize: 88, pinning: 1, flags: 1 });
    expect(btf.types[flows.keyType!]).toMatchObject({ kind: 'STRUCT', name: 'flow_key' });
    expect(btf.types[flows.valueType!]).toMatchObject({ kind: 'STRUCT', name: 'flow_stats' });
    expect(flows.inner).toBeUndefined();
    expect(defs.get('counters')).toEqual({
      type: 6,
      maxEntries: 4,
      keySize: 4,
      valueSize: 8,
      keyType: expect.any(Number),
      valueType: expect.any(Number),
    });
    expect(sizeOf(btf, defs.get('counters')!.valueType!)).toBe(8);
  });

  it('maps: map-in-map (array and hash of maps), program array, size-only, numa, extra', () => {
    const { btf, defs } = mapsOf(MAPS);
    expect([...defs.keys()].sort()).toEqual(
      ['bloom', 'events', 'inner_a', 'inner_b', 'jump_table', 'outer_array', 'outer_hash'].sort(),
    );
    const innerArray = { type: 2, maxEntries: 8, keySize: 4, valueSize: 8 };
    expect(defs.get('inner_a')).toMatchObject(innerArray);
    expect(defs.get('outer_array')).toMatchObject({ type: 12, maxEntries: 4, keySize: 4, valueSize: 4, inner: innerArray });
    expect(defs.get('outer_array')!.inner!.inner).toBeUndefined();
    expect(defs.get('outer_hash')).toMatchObject({
      type: 13,
      maxEntries: 32,
      keySize: 4,
      valueSize: 4,
      pinning: 1,
      inner: { type: 1, maxEntries: 16, keySize: 2, valueSize: 4, flags: 1 },
    });
    expect(btf.types[defs.get('outer_hash')!.inner!.keyType!]).toMatchObject({ kind: 'TYPEDEF', name: '__u16' });
    expect(defs.get('jump_table')).toEqual({ type: 3, maxEntries: 2, keySize: 4, valueSize: 4, progValues: true });
    expect(defs.get('events')).toEqual({ type: 4, keySize: 4, valueSize: 4, numaNode: 1 });
    expect(defs.get('bloom')).toMatchObject({ type: 30, maxEntries: 64, valueSize: 4, mapExtra: 3 });
    expect(defs.get('bloom')!.keySize).toBeUndefined();
  });
});

/** Build a map struct whose members come from `members(b, helpers)`; returns the BTF and the VAR id. */
function handMap(
  members: (
    b: BtfBuilder,
    h: { int: number; u32: number; attr: (n: number) => number },
  ) => { name: string; type: number }[],
): { btf: Btf; varId: number } {
  const b = new BtfBuilder();
  const int = b.int('int', 4, { signed: true });
  const u32 = b.int('unsigned int', 4);
  const idx = b.int('__ARRAY_SIZE_TYPE__', 4);
  const attr = (n: number) => b.ref('PTR', b.array(int, idx, n));
  const ms = members(b, { int, u32, attr });
  const s = b.composite('STRUCT', '', ms.length * 8, ms.map((m, i) => ({ ...m, bitOffset: i * 64 })));
  const v = b.variable('m', s);
  b.datasec('.maps', 0, [{ type: v, offset: 0, size: ms.length * 8 }]);
  return { btf: parseBtf(b.build()), varId: v };
}

function refusal(f: () => unknown): ObjectFormatError {
  try {
    f();
  } catch (e) {
    if (e instanceof ObjectFormatError) return e;
    throw e;
  }
  throw new Error('expected an ObjectFormatError');
}

describe('hand-built map definitions', () => {
  it('reads every integer attribute', () => {
    const { btf, varId } = handMap((b, h) => [
      { name: 'type', type: h.attr(2) },
      { name: 'max_entries', type: h.attr(10) },
      { name: 'map_flags', type: h.attr(5) },
      { name: 'numa_node', type: h.attr(3) },
      { name: 'map_extra', type: h.attr(7) },
      { name: 'pinning', type: h.attr(1) },
      { name: 'key_size', type: h.attr(4) },
      { name: 'value_size', type: h.attr(12) },
    ]);
    expect(readMapDef(btf, varId)).toEqual({
      type: 2,
      maxEntries: 10,
      flags: 5,
      numaNode: 3,
      mapExtra: 7,
      pinning: 1,
      keySize: 4,
      valueSize: 12,
    });
  });

  it('refuses an integer attribute that is not a pointer to an array, naming it', () => {
    const { btf, varId } = handMap((b, h) => [
      { name: 'type', type: h.attr(2) },
      { name: 'max_entries', type: h.int },
    ]);
    const e = refusal(() => readMapDef(btf, varId));
    expect(e.message).toContain("member 'max_entries'");
    expect(e.message).toContain('expected PTR to ARRAY');
    expect(e.location.offset).toBeGreaterThan(0);
    const { btf: btf2, varId: v2 } = handMap((b, h) => [{ name: 'pinning', type: b.ref('PTR', h.int) }]);
    expect(refusal(() => readMapDef(btf2, v2)).message).toMatch(/member 'pinning' is PTR to INT, expected PTR to ARRAY/);
  });

  it('refuses unknown members, key that is not a pointer, key of no size, conflicting sizes', () => {
    const unknown = handMap((b, h) => [{ name: 'max_entires', type: h.attr(1) }]);
    expect(refusal(() => readMapDef(unknown.btf, unknown.varId)).message).toContain(
      "member 'max_entires' is not a known map definition attribute",
    );
    const notPtr = handMap((b, h) => [{ name: 'key', type: h.u32 }]);
    expect(refusal(() => readMapDef(notPtr.btf, notPtr.varId)).message).toContain("member 'key' is INT, expected PTR");
    const fwdKey = handMap((b) => [{ name: 'key', type: b.ref('PTR', b.fwd('opaque')) }]);
    expect(refusal(() => readMapDef(fwdKey.btf, fwdKey.varId)).message).toMatch(/member 'key' points to a type without a size/);
    const conflict = handMap((b, h) => [
      { name: 'key_size', type: h.attr(8) },
      { name: 'key', type: b.ref('PTR', h.u32) },
    ]);
    expect(refusal(() => readMapDef(conflict.btf, conflict.varId)).message).toContain(
      "member 'key_size' says 8 but the key type is 4 bytes",
    );
  });

  it('reads map-in-map recursively and refuses malformed values', () => {
    const ok = handMap((b, h) => {
      const inner = b.composite('STRUCT', 'inner', 16, [
        { name: 'type', type: h.attr(2), bitOffset: 0 },
        { name: 'value', type: b.ref('PTR', b.int('long', 8, { signed: true })), bitOffset: 64 },
      ]);
      return [
        { name: 'type', type: h.attr(12) },
        { name: 'values', type: b.array(b.ref('PTR', inner), h.u32, 0) },
      ];
    });
    expect(readMapDef(ok.btf, ok.varId)).toEqual({
      type: 12,
      valueSize: 4,
      inner: { type: 2, valueSize: 8, valueType: expect.any(Number) },
    });

    const sized = handMap((b, h) => {
      const inner = b.composite('STRUCT', 'inner', 8, [{ name: 'type', type: h.attr(2), bitOffset: 0 }]);
      return [{ name: 'values', type: b.array(b.ref('PTR', inner), h.u32, 3) }];
    });
    expect(refusal(() => readMapDef(sized.btf, sized.varId)).message).toContain(
      "member 'values' is an array of 3 elements, expected a zero-length array",
    );

    const notLast = handMap((b, h) => {
      const inner = b.composite('STRUCT', 'inner', 8, [{ name: 'type', type: h.attr(2), bitOffset: 0 }]);
      return [
        { name: 'values', type: b.array(b.ref('PTR', inner), h.u32, 0) },
        { name: 'type', type: h.attr(12) },
      ];
    });
    expect(refusal(() => readMapDef(notLast.btf, notLast.varId)).message).toContain("member 'values' must be the last member");

    const twoLevels = handMap((b, h) => {
      const innermost = b.composite('STRUCT', 'innermost', 8, [{ name: 'type', type: h.attr(2), bitOffset: 0 }]);
      const inner = b.composite('STRUCT', 'inner', 8, [
        { name: 'values', type: b.array(b.ref('PTR', innermost), h.u32, 0), bitOffset: 0 },
      ]);
      return [{ name: 'values', type: b.array(b.ref('PTR', inner), h.u32, 0) }];
    });
    expect(refusal(() => readMapDef(twoLevels.btf, twoLevels.varId)).message).toMatch(
      /inner map: member 'values' is not supported in an inner map definition/,
    );

    const toInt = handMap((b, h) => [{ name: 'values', type: b.array(b.ref('PTR', h.int), h.u32, 0) }]);
    expect(refusal(() => readMapDef(toInt.btf, toInt.varId)).message).toContain("member 'values' points to INT");
  });

  it('refuses a definition that is not a struct, and a .maps entry that is not a VAR', () => {
    const b = new BtfBuilder();
    const int = b.int('int', 4, { signed: true });
    const v = b.variable('m', int);
    b.datasec('.maps', 0, [{ type: v, offset: 0, size: 4 }]);
    expect(refusal(() => readBtfMaps(parseBtf(b.build()))).message).toContain("map 'm': definition is INT, expected STRUCT");

    const b2 = new BtfBuilder();
    const int2 = b2.int('int', 4, { signed: true });
    b2.datasec('.maps', 0, [{ type: int2, offset: 0, size: 4 }]);
    expect(refusal(() => readBtfMaps(parseBtf(b2.build()))).message).toContain("DATASEC '.maps' entry 0 is INT, expected VAR");
    expect(readBtfMaps(parseBtf(new BtfBuilder().build()))).toEqual([]);
  });
});
