/**
 * The outro (the kernel's `nfp_outro_xdp` in drivers/net/ethernet/netronome/nfp/bpf/
 * jit.c) and the image's tail. Every eBPF `exit` branches to `outro`, which maps
 * the XDP return code in r0 — its low word, as the kernel's `u32` action — to the
 * NFP action code and leaves it in gprA_0 (`ACTION_GPR`):
 *
 *   r0 (low 32 bits)   action   meaning
 *   0 XDP_ABORTED      0x82     drop, counted as an exception
 *   1 XDP_DROP         0x22     drop
 *   2 XDP_PASS         0x11     pass
 *   3 XDP_TX           0x44     transmit
 *   anything else      0x82     as aborted — XDP_REDIRECT (4) included: the NFP
 *                               offload does not support it, the offload rules
 *                               refuse programs that return it, and an image that
 *                               returns it anyway drops the packet as an exception
 *
 * As the kernel does: `3 − r0` with a borrow means r0 > 3 (→ abort); otherwise the
 * action is byte r0 of the constant 0x44112282, selected by an indirect right shift
 * by 8·r0 (the amount is the A operand of the `alu` before it).
 *
 * Then the end address: the run of one packet stops there (the executor's `endPc`,
 * where the kernel's `tgt_done` hands the packet back to the firmware), followed by
 * the 8 `nop`s of the instruction-store prefetch window (NFP_USTORE_PREFETCH_WINDOW)
 * that every image must end with.
 */
import { NOP } from '../../../nic-sim/isa/instructions.js';
import { NO_DST, gprA, gprB, imm } from '../../../nic-sim/isa/operands.js';
import { USTORE_PREFETCH_WINDOW } from '../../../nic-sim/isa/fields.js';
import { NONE_SRC, alu, branch, emit, loadImm32, shf, type EmitCtx, type OutroLabel } from './emit.js';
import { ACTION_GPR, IMM_GPR, TMP_GPR } from './regs.js';
import { ACTION_TABLE, NfpAction, XdpAction } from '../../../nic-sim/card/actions.js';

export { ACTION_TABLE, NfpAction, XdpAction, nfpActionOf } from '../../../nic-sim/card/actions.js';

const label = (ctx: EmitCtx, name: OutroLabel): void => void ctx.labels.set(name, ctx.out.length);

/** A `br` to the end as the very last instruction falls through to the end anyway: remove it. */
function dropTrailingBranchToEnd(ctx: EmitCtx): void {
  const last = ctx.relocs.at(-1);
  if (!last || last.at !== ctx.out.length - 1 || last.target.k !== 'label' || last.target.name !== 'end') return;
  ctx.relocs.pop();
  ctx.out.pop();
  ctx.sourceMap.pop();
}

/**
 * The outro, the end address and the pad; `compute: false` (every exit set its action code already,
 * the const-exit pass) leaves the computation out, and a last exit's branch straight to the end too.
 */
export function emitOutro(ctx: EmitCtx, compute = true): void {
  if (!compute) {
    dropTrailingBranchToEnd(ctx);
    label(ctx, 'outro');
    label(ctx, 'abort');
    label(ctx, 'end');
    for (let i = 0; i < USTORE_PREFETCH_WINDOW; i++) emit(ctx, NOP);
    return;
  }
  label(ctx, 'outro');
  alu(ctx, NO_DST, imm(XdpAction.TX), 'sub', gprB(0));
  branch(ctx, 'lo', { k: 'label', name: 'abort' });
  loadImm32(ctx, gprB(IMM_GPR), ACTION_TABLE);
  shf(ctx, gprA(TMP_GPR), NONE_SRC, 'none', gprB(0), 'shl', 3);
  alu(ctx, NO_DST, gprA(TMP_GPR), 'or', imm(0));
  shf(ctx, gprB(IMM_GPR), NONE_SRC, 'none', gprB(IMM_GPR), 'shr', 'indirect');
  alu(ctx, ACTION_GPR, gprB(IMM_GPR), 'and', imm(0xff));
  branch(ctx, 'always', { k: 'label', name: 'end' });
  label(ctx, 'abort');
  loadImm32(ctx, ACTION_GPR, NfpAction.EXCEPTION_DROP);
  label(ctx, 'end');
  for (let i = 0; i < USTORE_PREFETCH_WINDOW; i++) emit(ctx, NOP);
}
