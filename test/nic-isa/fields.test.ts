/** The field tables themselves: fields fit the opcode part, do not overlap, and no word is of two classes. */
import { describe, expect, it } from 'vitest';
import { IsaError } from '../../nic-sim/isa/errors.js';
import { LAYOUTS, OP_MASK, getField, maskShift, putField, type ClassLayout } from '../../nic-sim/isa/fields.js';
import { ALU_OPS, BR_CONDS, CSRS } from '../../nic-sim/isa/tables.js';

const layouts = Object.entries(LAYOUTS) as [string, ClassLayout][];

/** A mask is one run of set bits. */
const contiguous = (m: bigint): boolean => {
  const v = m >> BigInt(maskShift(m));
  return (v & (v + 1n)) === 0n;
};

describe('class layouts (nfp_asm.h masks)', () => {
  it.each(layouts)('%s: fields are contiguous, inside 45 bits, disjoint from each other and from the class bits', (_n, layout) => {
    let seen = layout.ident.mask;
    expect(layout.ident.value & ~layout.ident.mask).toBe(0n);
    for (const [name, mask] of Object.entries(layout.fields)) {
      expect(contiguous(mask), name).toBe(true);
      expect(mask & ~OP_MASK, name).toBe(0n);
      expect(mask & seen, `${name} overlaps`).toBe(0n);
      seen |= mask;
    }
  });

  it('no word carries the identifying bits of two classes', () => {
    for (const [n1, l1] of layouts) {
      for (const [n2, l2] of layouts) {
        if (n1 >= n2) continue;
        const common = l1.ident.mask & l2.ident.mask;
        expect((l1.ident.value ^ l2.ident.value) & common, `${n1} / ${n2}`).not.toBe(0n);
      }
    }
  });

  it('places and reads a field, refusing values that do not fit', () => {
    const fail = (r: string): never => {
      throw new IsaError('encode', r);
    };
    const w = putField(0x007ffc00000n, 0x1fff, 'ADDR_LO', fail);
    expect(w).toBe(0x007ffc00000n);
    expect(getField(w | 0x1fn, 0x007ffc00000n)).toBe(0x1fff);
    expect(() => putField(0x1fn, 32, 'condition', fail)).toThrow(/condition 32 does not fit its field \(0..31\)/);
  });

  it('keeps the header enums the header gives', () => {
    expect(ALU_OPS.code).toMatchObject({ none: 0, add: 1, not: 4, add_2b: 5, and: 8, sub_c: 0x0d, add_c: 0x11, or: 0x14, sub: 0x15, xor: 0x18 });
    expect(BR_CONDS.code).toMatchObject({ eq: 0, ne: 1, mi: 2, hs: 4, lo: 5, ge: 8, lt: 9, always: 0x18 });
    expect(CSRS.code).toMatchObject({ ACT_LM_ADDR0: 0x64, ACT_LM_ADDR1: 0x6c, ACT_LM_ADDR2: 0x94, ACT_LM_ADDR3: 0x9c });
  });
});
