/**
 * Test-only sample BTF built by hand: one of every kind (used by the kind tests
 * and as a fuzzing seed that needs no compiler), and a matching .BTF.ext.
 */

import { BtfBuilder, buildBtfExt } from './btf-builder.js';

/** One type of every kind; ids are noted beside each line. */
export function everyKind(): BtfBuilder {
  const b = new BtfBuilder();
  const int = b.int('int', 4, { signed: true }); // 1
  const uchar = b.int('unsigned char', 1, { char: true }); // 2
  b.int('_Bool', 1, { bool: true }); // 3
  b.int('odd', 4, { bits: 12, offset: 4 }); // 4
  const ptr = b.ref('PTR', int); // 5
  const arr = b.array(uchar, int, 6); // 6
  const s = b.composite('STRUCT', 'pkt', 16, [
    // 7
    { name: 'len', type: int, bitOffset: 0 },
    { name: 'flags', type: int, bitOffset: 32, bitfieldSize: 3 },
    { name: 'more', type: int, bitOffset: 35, bitfieldSize: 29 },
    { name: 'p', type: ptr, bitOffset: 64 },
  ]);
  b.composite('UNION', '', 8, [
    // 8
    { name: 'a', type: int, bitOffset: 0 },
    { name: 'b', type: arr, bitOffset: 0 },
  ]);
  b.enum('color', 4, [['RED', 0], ['BLUE', 0xffffffff]]); // 9
  b.enum('delta', 4, [['DOWN', -1], ['UP', 1]], true); // 10
  b.enum64('big', 8, [['HUGE', 0xfedcba9876543210n], ['ONE', 1n]]); // 11
  b.enum64('sbig', 8, [['NEG', -5n], ['POS', 1n << 40n]], true); // 12
  const fwdS = b.fwd('later'); // 13
  b.fwd('ulater', true); // 14
  const td = b.ref('TYPEDEF', int, 'myint'); // 15
  const vol = b.ref('VOLATILE', td); // 16
  const cst = b.ref('CONST', vol); // 17
  const pcst = b.ref('PTR', cst); // 18
  b.ref('RESTRICT', pcst); // 19
  const proto = b.funcProto(int, [['ctx', b.ref('PTR', s)], ['n', td]]); // 21 (20 is the PTR)
  b.func('main_fn', proto, 1); // 22
  b.func('helper', b.funcProto(0, [['fmt', ptr], ['', 0]]), 0); // 23 proto, 24 func
  b.func('ext_fn', proto, 2); // 25
  const v1 = b.variable('counter', int, 1); // 26
  const v2 = b.variable('secret', td, 0); // 27
  const v3 = b.variable('imported', arr, 2); // 28
  b.datasec('.data', 16, [
    // 29
    { type: v1, offset: 0, size: 4 },
    { type: v2, offset: 8, size: 4 },
  ]);
  b.datasec('.kconfig', 6, [{ type: v3, offset: 0, size: 6 }]); // 30
  b.float('double', 8); // 31
  b.declTag('hot', v1, -1); // 32
  b.declTag('arg', 22, 1); // 33
  const tag = b.ref('TYPE_TAG', int, 'user'); // 34
  b.ref('PTR', tag); // 35
  b.ref('PTR', fwdS); // 36
  b.ref('PTR', 0); // 37 void *
  b.ref('PTR', b.array(arr, int, 2)); // 39 -> 38
  return b;
}

/** everyKind() plus a .BTF.ext with func_info, line_info and core_relo for it. */
export function everyKindWithExt(): { btf: Uint8Array; ext: Uint8Array } {
  const b = everyKind();
  const sec = b.strings.add('xdp');
  const text = b.strings.add('.text');
  const file = b.strings.add('/src/every.c');
  const line = b.strings.add('int main_fn(struct pkt *ctx, myint n)');
  const access = b.strings.add('0:3');
  const ext = buildBtfExt({
    funcInfo: {
      recSize: 8,
      sections: [
        { nameOff: sec, records: [[0, 22]] },
        { nameOff: text, records: [[0, 24], [64, 25]] },
      ],
    },
    lineInfo: {
      recSize: 16,
      sections: [
        { nameOff: sec, records: [[0, file, line, (3 << 10) | 0], [8, file, line, (4 << 10) | 5]] },
        { nameOff: text, records: [[0, file, line, (9 << 10) | 2]] },
      ],
    },
    coreRelo: { recSize: 16, sections: [{ nameOff: sec, records: [[8, 7, access, 0], [16, 11, access, 10]] }] },
  });
  return { btf: b.build(), ext };
}
