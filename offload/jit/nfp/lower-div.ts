/**
 * Unsigned divide and modulo by a constant (the kernel JIT's `div_imm64`/`div_reg64`
 * refusal and `wrp_div_imm` with `reciprocal_value_adv`, drivers/net/ethernet/
 * netronome/nfp/bpf/jit.c): the card has no divider, so x / c is a multiply by a
 * reciprocal. For a constant c that is not a power of two, with l = ⌈log2 c⌉ and
 * m = ⌊2^32 (2^l − c) / c⌋ + 1 (below 2^32), Granlund and Montgomery's
 * round-up method (PLDI 1994, fig. 4.1) gives, exactly for every 32-bit x:
 *
 *   t = ⌊x·m / 2^32⌋  (the multiply's high word);  q = (t + ((x − t) >> 1)) >> (l − 1)
 *
 * A power of two is a shift (divide) or a mask (modulo); x mod c is x − q·c.
 *
 * As on the NFP, only a u32 dividend: ALU32, or ALU64 where the verifier proves the
 * dividend below 2^32; the divisor a constant in 1 … 2^31 − 1 (an immediate is
 * sign-extended, so a larger one is not a u32). Division by a register is refused.
 */
import { gprA, gprB, type Dst, type Src } from '../../../nic-sim/isa/operands.js';
import type { Insn as EbpfInsn } from '../../../xdp/isa/insn.js';
import type { InsnKind } from '../../../xdp/isa/kind.js';
import { alu, immOperand, loadImm32, mappedReg, move, shf, unsupported, zeroHigh, type EmitCtx } from './emit.js';
import { mul32x32 } from './mul-seq.js';
import { highZero } from './passes.js';
import { TMP_GPR, dest, left } from './regs.js';

type AluKind = Extract<InsnKind, { k: 'alu' }>;

/** m and l of the round-up method for a divisor that is not a power of two. */
export function reciprocal(c: number): { m: number; l: number } {
  const l = 32 - Math.clz32(c - 1);
  const m = Number(((1n << 32n) * ((1n << BigInt(l)) - BigInt(c))) / BigInt(c) + 1n);
  return { m, l };
}

const isPow2 = (c: number): boolean => (c & (c - 1)) === 0;

/** The quotient of eBPF register d's low word by c into `q` (GPR 20's two banks are scratch). */
function quotient(ctx: EmitCtx, d: number, c: number, q: Dst): void {
  const x = left(d, 0);
  if (isPow2(c)) {
    const k = 31 - Math.clz32(c);
    if (k === 0) move(ctx, q, gprB(2 * d));
    else shf(ctx, q, gprA(0), 'none', gprB(2 * d), 'shr', k);
    return;
  }
  const { m, l } = reciprocal(c);
  const tA = gprA(TMP_GPR);
  const tB = gprB(TMP_GPR);
  const mOperand: Src = immOperand(ctx, m, 'b');
  // Product x·m: the low word is not needed (into gprA_20), the high word t into gprB_20.
  mul32x32(ctx, x, mOperand, tA, tB);
  alu(ctx, tA, x, 'sub', tB);
  shf(ctx, tA, gprB(0), 'none', tA, 'shr', 1);
  alu(ctx, tA, tA, 'add', tB);
  if (l - 1 > 0) shf(ctx, q, gprB(0), 'none', tA, 'shr', l - 1);
  else move(ctx, q, tA);
}


export function lowerDivMod(ctx: EmitCtx, insn: EbpfInsn, kind: AluKind): void {
  const what = `${kind.width === 64 ? 'ALU64' : 'ALU32'} ${kind.op}`;
  if (kind.useReg) throw unsupported(ctx, `${what} by a register: the card divides only by a constant (the NFP offload refuses it too)`);
  const c = insn.imm;
  if (c <= 0) throw unsupported(ctx, `${what} by ${c}: only a constant divisor in 1 … 2^31 − 1 is a u32 here`);
  const d = mappedReg(ctx, insn.dst);
  if (kind.width === 64 && !highZero(ctx.reads, d)) {
    throw unsupported(ctx, `${what}: the dividend is not known to fit in 32 bits (the NFP offload divides only a u32)`);
  }
  if (kind.op === 'div') {
    if (c !== 1) quotient(ctx, d, c, dest(d, 0));
  } else if (c === 1) {
    loadImm32(ctx, dest(d, 0), 0);
  } else if (isPow2(c)) {
    alu(ctx, dest(d, 0), left(d, 0), 'and', immOperand(ctx, c - 1, 'b'));
  } else {
    // x − q·c, q in gprB_20 then gprA_20, q·c in gprB_20.
    quotient(ctx, d, c, gprB(TMP_GPR));
    move(ctx, gprA(TMP_GPR), gprB(TMP_GPR));
    mul32x32(ctx, gprA(TMP_GPR), immOperand(ctx, c, 'b'), gprB(TMP_GPR));
    alu(ctx, dest(d, 0), left(d, 0), 'sub', gprB(TMP_GPR));
  }
  // The result is below 2^32: a 64-bit dividend's high word was already 0.
  zeroHigh(ctx, d, kind.width === 64);
}
