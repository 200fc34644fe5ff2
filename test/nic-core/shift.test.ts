/** `alu_shf` (every shift class, direct and indirect, ASHR) and `ld_field` (byte masks, shifts, zero-fill). */
import { describe, expect, it } from 'vitest';
import { expectError, hex, runAsm, runError } from './run-asm.js';

/** gprB_1 = r, gprA_2 = l; runs the program, returns gprA_1. */
const shf = (src: string, r: number, l = 0, prep = ''): number =>
  runAsm(`${prep}\n${src}`, (s) => { s.gprB[1] = r; s.gprA[2] = l; s.gprA[3] = 0; }).s.gprA[1] as number;

describe('alu_shf direct shifts', () => {
  const rows: [string, number, number, number][] = [
    // text, r, l, expected
    ['alu_shf[gprA_1, --, B, gprB_1]', 0x80000001, 0, 0x80000001], // rotation by 0: no shift
    ['alu_shf[gprA_1, --, B, gprB_1, <<1]', 0x80000001, 0, 0x00000002],
    ['alu_shf[gprA_1, --, B, gprB_1, <<31]', 0x00000003, 0, 0x80000000],
    ['alu_shf[gprA_1, --, B, gprB_1, >>1]', 0x80000001, 0, 0x40000000],
    ['alu_shf[gprA_1, --, B, gprB_1, >>31]', 0x80000001, 0, 0x00000001],
    ['alu_shf[gprA_1, --, B, gprB_1, >>rot 8]', 0x12345678, 0, 0x78123456],
    ['alu_shf[gprA_1, --, B, gprB_1, >>rot 31]', 0x80000001, 0, 0x00000003],
    ['alu_shf[gprA_1, gprA_2, B, gprB_1, >>dbl 8]', 0x11223344, 0xaabbccdd, 0xdd112233],
    ['alu_shf[gprA_1, gprA_2, B, gprB_1, >>dbl 31]', 0x80000000, 0x00000001, 0x00000003],
    ['alu_shf[gprA_1, gprA_2, OR, gprB_1, <<4]', 0x0000000f, 0x01000001, 0x010000f1],
    ['alu_shf[gprA_1, gprA_2, AND, gprB_1, >>4]', 0xfff0, 0xf0f, 0x00000f0f],
    ['alu_shf[gprA_1, gprA_2, OR, 1, <<4]', 0, 0x100, 0x110],
  ];
  for (const [text, r, l, want] of rows) {
    it(`${text} with r=${hex(r)} l=${hex(l)} → ${hex(want)}`, () => expect(hex(shf(text, r, l))).toBe(hex(want)));
  }

  it('ASHR fills with prevResult bit 31 (the kernel sets it with an alu first)', () => {
    const neg = 'alu[--, --, B, gprB_1]';
    expect(hex(shf('alu_shf[gprA_1, --, ASHR, gprB_1, >>1]', 0x80000000, 0, neg))).toBe('0xc0000000');
    expect(hex(shf('alu_shf[gprA_1, --, ASHR, gprB_1, >>31]', 0x80000000, 0, neg))).toBe('0xffffffff');
    expect(hex(shf('alu_shf[gprA_1, --, ASHR, gprB_1, >>1]', 0x40000000, 0, neg))).toBe('0x20000000');
    // the sign comes from prevResult, not from r: a positive previous result gives a logical shift
    expect(hex(shf('alu_shf[gprA_1, --, ASHR, gprB_1, >>4]', 0x80000000, 0, 'alu[--, --, B, 1]'))).toBe('0x8000000');
  });

  it('shifts leave the condition codes and the previous-ALU state alone', () => {
    const { s } = runAsm('alu[--, gprA_2, -, gprB_2]\nalu_shf[gprA_1, --, B, gprB_1, <<1]', (s) => {
      s.gprA[2] = 1; s.gprB[2] = 1; s.gprB[1] = 0x80000000;
    });
    expect(s.gprA[1]).toBe(0);
    expect(s.flags).toEqual({ z: true, n: false, c: true, v: false });
    expect([s.prevA, s.prevResult]).toEqual([1, 0]);
  });
});

describe('alu_shf indirect shifts (amount from prevA)', () => {
  /** `alu[--, gprA_3, OR, 0]` puts gprA_3 in prevA. */
  const indirect = (text: string, amount: number, r: number, l = 0): number =>
    runAsm(`alu[--, gprA_3, OR, 0]\n${text}`, (s) => { s.gprA[3] = amount; s.gprB[1] = r; s.gprA[2] = l; }).s.gprA[1] as number;

  it('left and right by 0, 1, 31, and amounts taken mod 32', () => {
    const shl = 'alu_shf[gprA_1, --, B, gprB_1, <<indirect]';
    const shr = 'alu_shf[gprA_1, --, B, gprB_1, >>indirect]';
    expect(hex(indirect(shl, 0, 0x80000001))).toBe('0x80000001');
    expect(hex(indirect(shl, 1, 0x80000001))).toBe('0x2');
    expect(hex(indirect(shl, 31, 3))).toBe('0x80000000');
    expect(hex(indirect(shl, 33, 3))).toBe('0x6');
    expect(hex(indirect(shr, 0, 0x80000001))).toBe('0x80000001');
    expect(hex(indirect(shr, 1, 0x80000001))).toBe('0x40000000');
    expect(hex(indirect(shr, 31, 0x80000001))).toBe('0x1');
  });

  it('double shift by 0 gives r, by 32 gives l, by 8 the middle', () => {
    const dbl = 'alu_shf[gprA_1, gprA_2, B, gprB_1, >>dbl indirect]';
    expect(hex(indirect(dbl, 0, 0x11223344, 0xaabbccdd))).toBe('0x11223344');
    expect(hex(indirect(dbl, 32, 0x11223344, 0xaabbccdd))).toBe('0xaabbccdd');
    expect(hex(indirect(dbl, 8, 0x11223344, 0xaabbccdd))).toBe('0xdd112233');
  });

  it('double shift by more than 32 is refused', () => {
    const e = runError('alu[--, gprA_3, OR, 0]\nalu_shf[gprA_1, gprA_2, B, gprB_1, >>dbl indirect]', (s) => { s.gprA[3] = 33; });
    expectError(e, 'refused', 'pc 1 `alu_shf[gprA_1, gprA_2, B, gprB_1, >>dbl indirect]`: indirect double shift by 33 (more than 32)');
  });

  it('indirect ASHR as the kernel emits it: amount and sign from one alu', () => {
    // alu[--, gprA_3, OR, gprB_1]: prevA = the amount (A field), prevResult bit 31 = r's sign when the amount is small
    const { s } = runAsm('alu[--, gprA_3, OR, gprB_1]\nalu_shf[gprA_1, --, ASHR, gprB_1, >>indirect]', (s) => {
      s.gprA[3] = 4; s.gprB[1] = 0x80000010;
    });
    expect(hex(s.gprA[1] as number)).toBe('0xf8000001');
  });
});

describe('ld_field', () => {
  const ldf = (text: string, dst: number, src: number) =>
    runAsm(text, (s) => { s.gprA[1] = dst; s.gprB[1] = src; }).s;

  const rows: [string, number][] = [
    ['ld_field[gprA_1, 0011, gprB_1]', 0xaabb3344],
    ['ld_field_w_clr[gprA_1, 0011, gprB_1]', 0x00003344],
    ['ld_field[gprA_1, 1111, gprB_1]', 0x11223344],
    ['ld_field[gprA_1, 0000, gprB_1]', 0xaabbccdd],
    ['ld_field_w_clr[gprA_1, 0000, gprB_1]', 0],
    ['ld_field[gprA_1, 0101, gprB_1, >>8]', 0xaa11cc33],
    ['ld_field[gprA_1, 1000, gprB_1, <<8]', 0x22bbccdd],
    ['ld_field_w_clr[gprA_1, 1000, gprB_1, >>rot 8]', 0x44000000],
    ['ld_field_w_clr[gprA_1, 0001, gprB_1, >>24]', 0x00000011],
  ];
  for (const [text, want] of rows) {
    it(`${text}: dst 0xaabbccdd, src 0x11223344 → ${hex(want)}`, () => {
      expect(hex(ldf(text, 0xaabbccdd, 0x11223344).gprA[1] as number)).toBe(hex(want));
    });
  }

  it('wrp_end32: two ld_fields byte-swap into both banks', () => {
    const { s } = runAsm('ld_field[gprAB_1, 1111, gprA_0, >>rot 8]\nld_field[gprAB_1, 0101, gprA_1, >>rot 16]', (s) => {
      s.gprA[0] = 0x11223344;
    });
    expect([hex(s.gprA[1] as number), hex(s.gprB[1] as number)]).toEqual(['0x44332211', '0x44332211']);
  });

  it('a transfer-register destination reads transfer-in and writes transfer-out', () => {
    const { s } = runAsm('ld_field[$xfer_2, 0001, gprB_1]', (s) => { s.xferIn[2] = 0xaabbccdd; s.gprB[1] = 0x11; });
    expect(hex(s.xferOut[2] as number)).toBe('0xaabbcc11');
    expect(hex(s.xferIn[2] as number)).toBe('0xaabbccdd');
  });
});
