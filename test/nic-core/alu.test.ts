/** `alu`: every operation's result and codes (docs/nic-isa.md "alu"), worked by hand; 64-bit pairs; operands. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { run } from '../../nic-sim/core/run.js';
import { createCoreState } from '../../nic-sim/core/state.js';
import { assemble } from '../../nic-sim/isa/assembler.js';
import { runAsm } from './run-asm.js';

interface Codes { z: boolean; n: boolean; c: boolean; v: boolean }
const codes = (z: number, n: number, c: number, v: number): Codes => ({ z: !!z, n: !!n, c: !!c, v: !!v });

/** gprA_1 = l, gprB_1 = r, flags.c = cin; runs `alu[gprA_2, gprA_1, op, gprB_1]`. */
function alu(op: string, l: number, r: number, cin = false) {
  const { s } = runAsm(`alu[gprA_2, gprA_1, ${op}, gprB_1]`, (s) => {
    s.gprA[1] = l;
    s.gprB[1] = r;
    s.flags.c = cin;
  });
  return { result: s.gprA[2] as number, flags: { ...s.flags }, prevA: s.prevA, prevResult: s.prevResult };
}

describe('alu operations and condition codes', () => {
  const rows: [string, number, number, boolean, number, Codes][] = [
    // op, l, r, carry in, result, Z N C V
    ['B', 0x1234, 0x80000000, false, 0x80000000, codes(0, 1, 0, 0)],
    ['~B', 0, 0x0f0f0f0f, false, 0xf0f0f0f0, codes(0, 1, 0, 0)],
    ['~B', 0, 0xffffffff, true, 0, codes(1, 0, 0, 0)],
    ['+', 0xffffffff, 1, false, 0, codes(1, 0, 1, 0)],
    ['+', 0x7fffffff, 1, false, 0x80000000, codes(0, 1, 0, 1)],
    ['+', 0x80000000, 0x80000000, false, 0, codes(1, 0, 1, 1)],
    ['+', 2, 3, true, 5, codes(0, 0, 0, 0)],
    ['+carry', 2, 3, true, 6, codes(0, 0, 0, 0)],
    ['+carry', 2, 3, false, 5, codes(0, 0, 0, 0)],
    ['+carry', 0xffffffff, 0, true, 0, codes(1, 0, 1, 0)],
    ['+carry', 0x7fffffff, 0, true, 0x80000000, codes(0, 1, 0, 1)],
    ['+16', 0x1234fff0, 0x20, false, 0x10, codes(0, 0, 1, 0)],
    ['+16', 0x00010001, 0x00010002, false, 3, codes(0, 0, 0, 0)],
    ['-', 7, 5, false, 2, codes(0, 0, 1, 0)],
    ['-', 5, 5, false, 0, codes(1, 0, 1, 0)],
    ['-', 5, 7, false, 0xfffffffe, codes(0, 1, 0, 0)],
    ['-', 0x80000000, 1, false, 0x7fffffff, codes(0, 0, 1, 1)],
    ['-', 1, 0x80000000, false, 0x80000001, codes(0, 1, 0, 1)],
    ['-carry', 7, 5, true, 2, codes(0, 0, 1, 0)],
    ['-carry', 7, 5, false, 1, codes(0, 0, 1, 0)],
    ['-carry', 5, 5, false, 0xffffffff, codes(0, 1, 0, 0)],
    ['-carry', 0, 0, true, 0, codes(1, 0, 1, 0)],
    ['AND', 0xff00ff00, 0x0ff00ff0, false, 0x0f000f00, codes(0, 0, 0, 0)],
    ['~AND', 0xff00ff00, 0x0ff00ff0, false, 0x00f000f0, codes(0, 0, 0, 0)],
    ['AND~', 0xff00ff00, 0x0ff00ff0, false, 0xf000f000, codes(0, 1, 0, 0)],
    ['OR', 0xff00ff00, 0x0ff00ff0, false, 0xfff0fff0, codes(0, 1, 0, 0)],
    ['XOR', 0xff00ff00, 0x0ff00ff0, false, 0xf0f0f0f0, codes(0, 1, 0, 0)],
    ['XOR', 0x5a5a5a5a, 0x5a5a5a5a, true, 0, codes(1, 0, 0, 0)],
  ];
  for (const [op, l, r, cin, result, c] of rows) {
    it(`${l.toString(16)} ${op} ${r.toString(16)} (C in ${Number(cin)}) = ${result.toString(16)}`, () => {
      const out = alu(op, l, r, cin);
      expect(out.result).toBe(result);
      expect(out.flags).toEqual(c);
      expect(out.prevResult).toBe(result);
      expect(out.prevA).toBe(l);
    });
  }

  it('64-bit add as ADD then ADD_C: 0x00000000_ffffffff + 1 carries into the high word', () => {
    const { s } = runAsm(
      `alu[gprA_4, gprA_2, +, gprB_2]
       alu[gprA_5, gprA_3, +carry, gprB_3]`,
      (s) => { s.gprA[2] = 0xffffffff; s.gprA[3] = 0; s.gprB[2] = 1; s.gprB[3] = 0; },
    );
    expect([s.gprA[4], s.gprA[5]]).toEqual([0, 1]);
    expect(s.flags).toEqual(codes(0, 0, 0, 0));
  });

  it('64-bit sub as SUB then SUB_C: 0x1_00000000 − 1 borrows from the high word', () => {
    const { s } = runAsm(
      `alu[gprA_4, gprA_2, -, gprB_2]
       alu[gprA_5, gprA_3, -carry, gprB_3]`,
      (s) => { s.gprA[2] = 0; s.gprA[3] = 1; s.gprB[2] = 1; s.gprB[3] = 0; },
    );
    expect([s.gprA[4], s.gprA[5]]).toEqual([0xffffffff, 0]);
    expect(s.flags).toEqual(codes(1, 0, 1, 0));
  });

  it('prevA is the A-field operand whatever SW says', () => {
    // gprB_2 as the left operand forces the swap: l in B, r (gprA_3) in A.
    const { s } = runAsm('alu[gprA_1, gprB_2, -, gprA_3]', (s) => { s.gprB[2] = 10; s.gprA[3] = 3; });
    expect(s.gprA[1]).toBe(7);
    expect(s.prevA).toBe(3);
  });

  it('writes both banks, transfer-out, and reads immediates and transfer-in', () => {
    const { s } = runAsm(
      `alu[gprAB_6, gprA_1, +, 0xff]
       alu[$xfer_3, --, B, $xfer_3]
       alu[gprB_7, $xfer_3, XOR, 1]`,
      (s) => { s.gprA[1] = 1; s.xferIn[3] = 0xabcd; },
    );
    expect([s.gprA[6], s.gprB[6]]).toEqual([0x100, 0x100]);
    expect(s.xferOut[3]).toBe(0xabcd);
    expect(s.gprB[7]).toBe(0xabcc);
    expect(s.gprA[7]).toBe(0);
  });
});

describe('alu against JavaScript arithmetic (property)', () => {
  const u32 = fc.integer({ min: 0, max: 0xffffffff });
  const ops: [string, (l: number, r: number) => number][] = [
    ['+', (l, r) => (l + r) >>> 0],
    ['-', (l, r) => (l - r) >>> 0],
    ['AND', (l, r) => (l & r) >>> 0],
    ['OR', (l, r) => (l | r) >>> 0],
    ['XOR', (l, r) => (l ^ r) >>> 0],
  ];
  for (const [op, ref] of ops) {
    it(`alu ${op} matches >>> 0 arithmetic`, () => {
      const prog = assemble(`alu[gprA_2, gprA_1, ${op}, gprB_1]`);
      fc.assert(
        fc.property(u32, u32, (l, r) => {
          const s = createCoreState();
          s.gprA[1] = l;
          s.gprB[1] = r;
          run(prog, s);
          expect(s.gprA[2]).toBe(ref(l, r));
          expect(s.flags.z).toBe(ref(l, r) === 0);
          expect(s.flags.n).toBe(ref(l, r) >= 0x80000000);
        }),
        { seed: 11, numRuns: 300 },
      );
    });
  }

  it('ADD then ADD_C equals BigInt addition mod 2^64', () => {
    const prog = assemble(`alu[gprA_4, gprA_2, +, gprB_2]
                           alu[gprA_5, gprA_3, +carry, gprB_3]`);
    const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
    fc.assert(
      fc.property(u64, u64, fc.boolean(), (x, y, cin) => {
        const s = createCoreState();
        s.flags.c = cin; // ADD ignores the incoming carry
        s.gprA[2] = Number(x & 0xffffffffn); s.gprA[3] = Number(x >> 32n);
        s.gprB[2] = Number(y & 0xffffffffn); s.gprB[3] = Number(y >> 32n);
        run(prog, s);
        const sum = (BigInt(s.gprA[5] as number) << 32n) | BigInt(s.gprA[4] as number);
        expect(sum).toBe((x + y) & ((1n << 64n) - 1n));
        expect(s.flags.c).toBe(x + y >= 1n << 64n);
      }),
      { seed: 12, numRuns: 300 },
    );
  });

  it('SUB then SUB_C equals BigInt subtraction mod 2^64, C = no borrow', () => {
    const prog = assemble(`alu[gprA_4, gprA_2, -, gprB_2]
                           alu[gprA_5, gprA_3, -carry, gprB_3]`);
    const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
    fc.assert(
      fc.property(u64, u64, (x, y) => {
        const s = createCoreState();
        s.gprA[2] = Number(x & 0xffffffffn); s.gprA[3] = Number(x >> 32n);
        s.gprB[2] = Number(y & 0xffffffffn); s.gprB[3] = Number(y >> 32n);
        run(prog, s);
        const diff = (BigInt(s.gprA[5] as number) << 32n) | BigInt(s.gprA[4] as number);
        expect(diff).toBe((x - y) & ((1n << 64n) - 1n));
        expect(s.flags.c).toBe(x >= y);
      }),
      { seed: 13, numRuns: 300 },
    );
  });
});
