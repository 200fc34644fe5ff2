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
import { NO_DST, gprA, gprB, imm, type Dst, type Gpr, type Src } from '../../../nic-sim/isa/operands.js';
import { USTORE_PREFETCH_WINDOW } from '../../../nic-sim/isa/fields.js';
import { NONE_SRC, alu, branch, emit, loadImm32, shf, type EmitCtx, type OutroLabel } from './emit.js';
import { ACTION_GPR, IMM_GPR, TMP_GPR } from './regs.js';
import { ACTION_TABLE, NfpAction, XdpAction } from '../../../nic-sim/card/actions.js';

export { ACTION_TABLE, NfpAction, XdpAction, nfpActionOf } from '../../../nic-sim/card/actions.js';

const label = (ctx: EmitCtx, name: OutroLabel): void => void ctx.labels.set(name, ctx.out.length);

/**
 * How the outro maps r0 to the action code, chosen from what the verifier knows of r0 at
 * every exit of the program (the outro-range pass; the NFP always emits `full`):
 *
 *   none       r0 one constant at every exit: each exit set the code itself (const-exit)
 *   drop-pass  r0 in [1, 2]: the code is 0x44 >> r0 (0x22, 0x11), 2 instructions
 *   table      r0 in [0, 3]: byte r0 of the table, no range check, 6 instructions
 *   full       anything else: the range check, the table and the abort path, 10
 */
export type OutroShape = 'none' | 'drop-pass' | 'table' | 'full';

/** The outro's shape for the union [lo, hi] of r0's unsigned ranges over the exits (undefined: unknown somewhere). */
export function outroShape(constant: boolean, lo: bigint | undefined, hi: bigint | undefined): OutroShape {
  if (constant) return 'none';
  if (lo === undefined || hi === undefined) return 'full';
  if (lo >= XdpAction.DROP && hi <= XdpAction.PASS) return 'drop-pass';
  return hi <= XdpAction.TX ? 'table' : 'full';
}

/** NfpAction.DROP and .PASS as one constant shifted right by r0 (1 or 2). */
const DROP_PASS_BASE = NfpAction.DROP << XdpAction.DROP;

/** The abort path, when something branches to it (dead code with dead-code off): the exception code, then the end. */
function abortPath(ctx: EmitCtx): void {
  if (!ctx.relocs.some((r) => r.target.k === 'label' && r.target.name === 'abort')) {
    label(ctx, 'abort');
    return;
  }
  branch(ctx, 'always', { k: 'label', name: 'end' });
  label(ctx, 'abort');
  loadImm32(ctx, ACTION_GPR, NfpAction.EXCEPTION_DROP);
}

/** `prevA` = the shift amount (its A-bank GPR), then `to` = `value` >> it (the indirect shift). */
function shiftRight(ctx: EmitCtx, to: Dst, value: Src, amount: Gpr): void {
  alu(ctx, NO_DST, amount, 'or', imm(0));
  shf(ctx, to, NONE_SRC, 'none', value, 'shr', 'indirect');
}

/** ACTION_GPR = byte r0 of the table (r0 ≤ 3). */
function tableLookup(ctx: EmitCtx): void {
  loadImm32(ctx, gprB(IMM_GPR), ACTION_TABLE);
  shf(ctx, gprA(TMP_GPR), NONE_SRC, 'none', gprB(0), 'shl', 3);
  shiftRight(ctx, gprB(IMM_GPR), gprB(IMM_GPR), gprA(TMP_GPR));
  alu(ctx, ACTION_GPR, gprB(IMM_GPR), 'and', imm(0xff));
}

/** The outro in the given shape, the end address and the pad. */
export function emitOutro(ctx: EmitCtx, shape: OutroShape = 'full'): void {
  label(ctx, 'outro');
  switch (shape) {
    case 'none':
      abortPath(ctx);
      break;
    case 'drop-pass':
      if (DROP_PASS_BASE >> XdpAction.PASS !== NfpAction.PASS) throw new Error('JIT: the drop/pass codes are not one constant shifted');
      shiftRight(ctx, ACTION_GPR, imm(DROP_PASS_BASE), gprA(0));
      abortPath(ctx);
      break;
    case 'table':
      tableLookup(ctx);
      abortPath(ctx);
      break;
    case 'full':
      alu(ctx, NO_DST, imm(XdpAction.TX), 'sub', gprB(0));
      branch(ctx, 'lo', { k: 'label', name: 'abort' });
      tableLookup(ctx);
      branch(ctx, 'always', { k: 'label', name: 'end' });
      label(ctx, 'abort');
      loadImm32(ctx, ACTION_GPR, NfpAction.EXCEPTION_DROP);
  }
  label(ctx, 'end');
  for (let i = 0; i < USTORE_PREFETCH_WINDOW; i++) emit(ctx, NOP);
}
