/**
 * Byte-order conversions (`le`/`be` of the ALU class, cpu v4 `bswap`), the kernel
 * JIT's `end_reg32` and `wrp_end32` in drivers/net/ethernet/netronome/nfp/bpf/jit.c:
 * a 32-bit swap is two `ld_field`s with right rotations — all four bytes of
 * rot(x, 8), then bytes 0 and 2 of rot(that, 16). eBPF programs here are
 * little-endian, so `le` only truncates and `be`/`bswap` swap:
 *
 *   le16  ld_field_w_clr (bytes 0–1), high word 0       2 instructions
 *   le32  high word 0                                   1
 *   le64  nothing                                       0
 *   be16  byte 1 ← byte 0 (clearing), byte 0 ← byte 1    3
 *   be32  the two-`ld_field` swap, high word 0          3
 *   be64  each word swapped into GPR 20 / the other      5
 *         word, then the low word moved back
 *
 * Each `ld_field` reads the destination from bank A and the source from bank B; both
 * banks hold every eBPF register (nfp/regs.ts), so an in-place swap reads the same
 * value twice.
 */
import type { LdFieldInsn } from '../../../nic-sim/isa/instructions.js';
import { gprA, gprB } from '../../../nic-sim/isa/operands.js';
import type { Insn as EbpfInsn } from '../../../xdp/isa/insn.js';
import type { InsnKind } from '../../../xdp/isa/kind.js';
import { emit, mappedReg, move, zeroHigh, type EmitCtx } from './emit.js';
import { TMP_GPR, dest, gprOf } from './regs.js';

/** `ld_field[gprA_dst, mask, gprB_src, >>rot]`, optionally clearing the other bytes, written to both banks unless `aOnly`. */
function field(ctx: EmitCtx, dst: number, src: number, byteMask: number, rot: number, zero = false, aOnly = false): void {
  const insn: LdFieldInsn = {
    cls: 'ld_field', a: gprA(dst), b: gprB(src), swap: false, wrBoth: !aOnly, byteMask, zero, sc: 'rot', shift: rot,
  };
  emit(ctx, insn);
}

/** GPR `to` (both banks) = bswap32(GPR `from`). */
function swap32(ctx: EmitCtx, to: number, from: number): void {
  field(ctx, to, from, 0b1111, 8);
  field(ctx, to, to, 0b0101, 16);
}

export function lowerEnd(ctx: EmitCtx, insn: EbpfInsn, kind: Extract<InsnKind, { k: 'end' }>): void {
  const d = mappedReg(ctx, insn.dst);
  const lo = gprOf(d, 0);
  const hi = gprOf(d, 1);
  if (kind.order === 'le') {
    if (kind.bits === 16) field(ctx, lo, lo, 0b0011, 0, true);
    if (kind.bits !== 64) zeroHigh(ctx, d);
    return;
  }
  switch (kind.bits) {
    case 16:
      // Bank A alone gets byte 0 in lane 1 (the rest cleared); then lane 0 takes byte 1 from the untouched bank B.
      field(ctx, lo, lo, 0b0010, 24, true, true);
      field(ctx, lo, lo, 0b0001, 8);
      zeroHigh(ctx, d);
      return;
    case 32:
      swap32(ctx, lo, lo);
      zeroHigh(ctx, d);
      return;
    case 64:
      swap32(ctx, TMP_GPR, hi);
      swap32(ctx, hi, lo);
      move(ctx, dest(d, 0), gprB(TMP_GPR));
  }
}
