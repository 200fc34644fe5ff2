/**
 * The card's 32×32 multiply as one sequence of `mul_step` instructions (the kernel
 * JIT's `wrp_mul_u32` in drivers/net/ethernet/netronome/nfp/bpf/jit.c), shared by
 * multiply (nfp/lower-alu.ts) and divide by a constant (nfp/lower-div.ts).
 */
import type { MulInsn } from '../../../nic-sim/isa/instructions.js';
import type { Dst, Src } from '../../../nic-sim/isa/operands.js';
import { emit, place, type EmitCtx } from './emit.js';

/**
 * `mul_step[l, r], start`, `32x32_step1..4`, `32x32_last` into `lo` and, when given,
 * `32x32_last2` into `hi` (the kernel's `wrp_mul_u32`). The operands are read at every
 * step, so they must stay put: nothing else may run inside the sequence.
 */
export function mul32x32(ctx: EmitCtx, l: Src, r: Src, lo: Dst, hi?: Dst): void {
  const ops = place(l, r);
  emit(ctx, { cls: 'mul', step: 'start', ...ops } satisfies MulInsn);
  for (const step of [1, 2, 3, 4] as const) emit(ctx, { cls: 'mul', step, size: '32x32', ...ops } satisfies MulInsn);
  emit(ctx, { cls: 'mul', step: 'last', size: '32x32', dst: lo } satisfies MulInsn);
  if (hi) emit(ctx, { cls: 'mul', step: 'last2', size: '32x32', dst: hi } satisfies MulInsn);
}
