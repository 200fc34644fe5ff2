/**
 * Unsigned divide and modulo by a constant on the card (offload/jit/nfp/lower-div.ts):
 * a multiply by the Granlund–Montgomery reciprocal, a shift for a power of two. Held to
 * the host interpreter on random dividends and divisors (powers of two, 1, divisors
 * next to powers of two and the largest, where the reciprocal is tightest), ALU32 and
 * ALU64 (a dividend below 2^32), r0 and the action. Division by a register, by a
 * negative (not u32) constant and of a dividend not known to fit 32 bits is refused.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JitError, recordsFromInsns, translate } from '../../offload/jit/translate.js';
import { reciprocal } from '../../offload/jit/nfp/lower-div.js';
import { aluInsn, exitInsn, runCard, runHost } from './harness.js';

const divisor = fc.oneof(
  fc.integer({ min: 1, max: 0x7fffffff }),
  fc.integer({ min: 0, max: 30 }).map((k) => 2 ** k),
  fc.integer({ min: 1, max: 30 }).chain((k) => fc.constantFrom(2 ** k - 1, 2 ** k + 1)),
  fc.constantFrom(3, 7, 10, 641, 0x7fffffff, 0x7ffffffe),
);
const dividend = fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(0, 1, 0xffffffff, 0xfffffffe, 0x80000000));

describe('divide and modulo by a constant', () => {
  it('the reciprocal of 7 and 10 (l = 3, 4)', () => {
    expect(reciprocal(7)).toEqual({ m: 0x24924925, l: 3 });
    expect(reciprocal(10)).toEqual({ m: 0x9999999a, l: 4 });
  });

  it.each(['div', 'mod'] as const)('ALU32 %s: card = host on 2,000 dividend/divisor pairs', (op) => {
    fc.assert(fc.property(dividend, divisor, (x, c) => {
      const insns = [aluInsn(32, op, 0, { imm: c }), exitInsn()];
      const init = [BigInt(x)];
      const want = runHost(insns, init);
      const got = runCard(insns, init, translate(recordsFromInsns(insns)));
      expect(got.regs[0]!.toString(16), `${x} ${op} ${c}`).toBe(want[0]!.toString(16));
    }), { numRuns: 2000, seed: 0x0d17 });
  });

  it('ALU64 with no verifier facts (the dividend not proven 32-bit) is refused, as are a register and a negative divisor', () => {
    const refused = (insn: ReturnType<typeof aluInsn>) => {
      try {
        translate(recordsFromInsns([insn, exitInsn()]));
      } catch (e) {
        expect(e).toBeInstanceOf(JitError);
        return (e as JitError).reason;
      }
      throw new Error('not refused');
    };
    expect(refused(aluInsn(64, 'div', 0, { imm: 7 }))).toMatch(/the dividend is not known to fit in 32 bits/);
    expect(refused(aluInsn(32, 'div', 0, { reg: 1 }))).toMatch(/by a register/);
    expect(refused(aluInsn(32, 'mod', 0, { imm: -3 }))).toMatch(/only a constant divisor/);
  });
});
