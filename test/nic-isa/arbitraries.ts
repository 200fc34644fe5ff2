/**
 * fast-check generators of valid card instructions, one per class, covering every
 * operand kind each field takes and every named field value. The constraints they
 * respect are the documented encoding rules (docs/nic-isa.md), written out here
 * independently of the encoder.
 */
import fc from 'fast-check';
import { xferWords } from '../../nic-sim/isa/codec-cmd.js';
import type { Insn, InsnOf } from '../../nic-sim/isa/instructions.js';
import type { Dst, Encoding, Src } from '../../nic-sim/isa/operands.js';
import {
  ALU_OPS, BR_CONDS, CMD_ACTIONS, CMD_MODES, CMD_TARGETS, CSR_WRITABLE, CSRS, IMMED_WIDTHS, MUL_SIZES, MUL_STEPS,
  SHF_OPS, type CsrName, type MulSize,
} from '../../nic-sim/isa/tables.js';

const gpr = (bank: 'a' | 'b'): fc.Arbitrary<Src> => fc.integer({ min: 0, max: 31 }).map((n) => ({ k: 'gpr', bank, n }));
const xferArb: fc.Arbitrary<Src & Dst> = fc.integer({ min: 0, max: 31 }).map((n) => ({ k: 'xfer', n }));

function lmArb(enc: Encoding, hi: boolean): fc.Arbitrary<Src & Dst> {
  const index = fc.integer({ min: 0, max: hi ? 3 : 1 });
  if (enc === 're') return fc.record({ k: fc.constant('lm' as const), index, off: fc.integer({ min: 0, max: 7 }), post: fc.constant('none' as const) });
  return fc.oneof(
    fc.record({ k: fc.constant('lm' as const), index, off: fc.integer({ min: 0, max: 15 }), post: fc.constant('none' as const) }),
    fc.record({ k: fc.constant('lm' as const), index, off: fc.constant(0), post: fc.constantFrom('inc' as const, 'dec' as const) }),
  );
}

const immArb = (max: number): fc.Arbitrary<Src> => fc.integer({ min: 0, max }).map((value) => ({ k: 'imm', value }));

interface SrcOpts {
  readonly i8?: boolean;
  readonly lmHi?: boolean;
  readonly imm?: boolean;
}

export function srcArb(field: 'A' | 'B', enc: Encoding, o: SrcOpts = {}): fc.Arbitrary<Src> {
  const parts: fc.Arbitrary<Src>[] = [gpr(field === 'A' ? 'a' : 'b'), xferArb, lmArb(enc, o.lmHi ?? true)];
  if (o.imm ?? true) parts.push(immArb(enc === 'ur' || o.i8 ? 0xff : 0x7f));
  return fc.oneof(...parts);
}

/** A register operand read on its own: a GPR of either bank, a transfer register or LM. */
export const regArb = (enc: Encoding, lmHi = true): fc.Arbitrary<Src> =>
  fc.oneof(gpr('a'), gpr('b'), xferArb, lmArb(enc, lmHi));

export function dstArb(enc: Encoding): fc.Arbitrary<Dst> {
  return fc.oneof(
    fc.record({ k: fc.constant('gpr' as const), bank: fc.constantFrom('a' as const, 'b' as const, 'ab' as const), n: fc.integer({ min: 0, max: 31 }) }),
    xferArb,
    lmArb(enc, true),
    fc.constant({ k: 'none' } as Dst),
  );
}

/** The pair rules: one I8 bit (no immediate above 0x7f beside another immediate), one SRC_LMEXTN bit. */
export function pairOk(a: Src, b: Src, enc: Encoding): boolean {
  if (enc === 're' && a.k === 'imm' && b.k === 'imm' && (a.value > 0x7f || b.value > 0x7f)) return false;
  if (a.k === 'lm' && b.k === 'lm' && a.index >> 1 !== b.index >> 1) return false;
  return true;
}

const pairArb = (enc: Encoding, o: SrcOpts = {}) =>
  fc
    .record({ a: srcArb('A', enc, o), b: srcArb('B', enc, o), swap: fc.boolean() })
    .filter(({ a, b }) => pairOk(a, b, enc));

const target = fc.integer({ min: 0, max: 0x3fff });

export const ARBS: { [C in Insn['cls']]: fc.Arbitrary<InsnOf<C>> } = {
  alu: fc
    .record({ op: fc.constantFrom(...ALU_OPS.names), dst: dstArb('ur'), p: pairArb('ur') })
    .map(({ op, dst, p }) => ({ cls: 'alu', op, dst, ...p })),

  alu_shf: fc
    .record({
      op: fc.constantFrom(...SHF_OPS.names),
      sc: fc.constantFrom('rot' as const, 'shr' as const, 'shl' as const, 'dshr' as const),
      n: fc.integer({ min: 0, max: 31 }),
      indirect: fc.boolean(),
      dst: dstArb('re'),
      p: pairArb('re', { i8: true }),
    })
    .map(({ op, sc, n, indirect, dst, p }) => {
      const cls = op === 'ashr' ? 'shr' : sc;
      const shift = cls === 'rot' ? n : indirect ? ('indirect' as const) : Math.max(n, 1);
      return { cls: 'alu_shf', op, dst, ...p, sc: cls, shift };
    }),

  ld_field: fc
    .record({
      p: pairArb('re', { i8: true }),
      wrBoth: fc.boolean(),
      byteMask: fc.integer({ min: 0, max: 15 }),
      zero: fc.boolean(),
      sc: fc.constantFrom('rot' as const, 'shr' as const, 'shl' as const),
      shift: fc.integer({ min: 0, max: 31 }),
    })
    .filter(({ p }) => (p.swap ? p.b : p.a).k !== 'imm')
    .map(({ p, wrBoth, ...rest }) => ({ cls: 'ld_field', ...p, wrBoth: wrBoth && (p.swap ? p.b : p.a).k === 'gpr', ...rest })),

  immed: fc
    .record({
      dst: dstArb('ur'),
      value: fc.integer({ min: 0, max: 0xffff }),
      width: fc.constantFrom(...IMMED_WIDTHS.names),
      invert: fc.boolean(),
      shift: fc.integer({ min: 0, max: 2 }),
    })
    .map(({ value, width, ...rest }) => ({ cls: 'immed', ...rest, width, value: width === 'byte' ? value & 0xff : value })),

  br: fc
    .record({ cond: fc.constantFrom(...BR_CONDS.names), target, defer: fc.integer({ min: 0, max: 3 }) })
    .map(({ cond, target: t, defer }) => ({ cls: 'br', cond, target: t, defer: cond === 'always' ? defer % 3 : defer })),

  br_byte: fc.record({
    cls: fc.constant('br_byte' as const),
    equal: fc.boolean(),
    src: regArb('re'),
    byte: fc.integer({ min: 0, max: 3 }),
    value: fc.integer({ min: 0, max: 0xff }),
    target,
    defer: fc.integer({ min: 0, max: 3 }),
  }),

  br_bit: fc.record({
    cls: fc.constant('br_bit' as const),
    set: fc.boolean(),
    src: regArb('re'),
    bit: fc.integer({ min: 0, max: 31 }),
    target,
    defer: fc.integer({ min: 0, max: 3 }),
  }),

  br_alu: fc.record({ cls: fc.constant('br_alu' as const), src: regArb('ur'), defer: fc.integer({ min: 0, max: 3 }) }),

  cmd: fc
    .record({
      target: fc.constantFrom(...CMD_TARGETS.names),
      action: fc.constantFrom(...CMD_ACTIONS.names),
      byteSwap: fc.boolean(),
      length: fc.integer({ min: 1, max: 8 }),
      xferSeed: fc.integer({ min: 0, max: 31 }),
      a: srcArb('A', 're', { lmHi: false }),
      b: srcArb('B', 're', { lmHi: false }),
      ctxSwap: fc.boolean(),
      deferSeed: fc.integer({ min: 0, max: 2 }),
      sigSeed: fc.integer({ min: 1, max: 15 }),
      mode: fc.constantFrom(...CMD_MODES.names),
      indirect: fc.boolean(),
    })
    .map(({ xferSeed, deferSeed, sigSeed, ...c }) => {
      const words = xferWords(c.action, c.length);
      return {
        cls: 'cmd' as const, ...c, xfer: xferSeed % (33 - words), defer: c.ctxSwap ? deferSeed : 0, sig: c.ctxSwap ? sigSeed : 0,
      };
    }),

  local_csr: fc.oneof(
    fc
      .record({
        csr: fc.constantFrom(...CSRS.names.filter((n): n is CsrName => CSR_WRITABLE[n])),
        src: fc.oneof(regArb('ur'), immArb(0xff)),
      })
      .map(({ csr, src }) => ({ cls: 'local_csr' as const, write: true as const, csr, src })),
    fc.constantFrom(...CSRS.names).map((csr) => ({ cls: 'local_csr' as const, write: false as const, csr })),
  ),

  mul: fc.oneof(
    pairArb('ur').map((p) => ({ cls: 'mul' as const, step: 'start' as const, ...p })),
    fc
      .record({ size: fc.constantFrom(...MUL_SIZES), k: fc.integer({ min: 1, max: 4 }), p: pairArb('ur') })
      .map(({ size, k, p }) => ({
        cls: 'mul' as const, step: (((k - 1) % MUL_STEPS[size]) + 1) as 1 | 2 | 3 | 4, size, ...p,
      })),
    fc
      .record({ size: fc.constantFrom(...MUL_SIZES), high: fc.boolean(), dst: dstArb('ur') })
      .map(({ size, high, dst }) => ({
        cls: 'mul' as const, step: high && size === '32x32' ? ('last2' as const) : ('last' as const), size: size as MulSize, dst,
      })),
  ),
};

export const anyInsn: fc.Arbitrary<Insn> = fc.oneof(...(Object.values(ARBS) as fc.Arbitrary<Insn>[]));
