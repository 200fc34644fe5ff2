/**
 * Helper calls (the kernel JIT's `call`, `map_call_stack_common`, `adjust_head`,
 * `adjust_tail`, `bpf_get_prandom_u32` lowering in drivers/net/ethernet/netronome/
 * nfp/bpf/jit.c), one table entry per helper the card offers:
 *
 * - Map lookup, update, delete and perf_event_output call firmware (docs/nic-image.md
 *   "Helper calls"): the key (or the sample's data) pointer — a stack pointer, so an
 *   LM address — goes to ACT_LM_ADDR0, an update's value pointer to ACT_LM_ADDR2; then
 *   `br[helper], defer[2]` whose slots put the table id (the map pointer's low word,
 *   r1, or r2 for perf_event_output) in gprA_0 and the return address in gprB_0. The
 *   branch target is a `helper` relocation and the return address an `immed-addr`
 *   one, both resolved by the image's loader. The routine leaves its result in r0.
 * - get_prandom_u32: `local_csr_rd[PSEUDO_RND_NUM]`, `immed[r0, 0]`.
 * - xdp_adjust_head (r2 = delta): the new start, data + delta, must stay inside the
 *   caps' window [off_min, off_max] and the new length, len − delta, be at least
 *   ETH_HLEN; then GPR 22 and 23 move and r0 = 0, else r0 = −EINVAL and nothing moves.
 * - xdp_adjust_tail (r2 = delta): as the NFP does, only shrinking: len + delta must
 *   borrow (a negative delta; 0 and growth give −EINVAL) and stay at least ETH_HLEN.
 *
 * bpf-to-bpf calls are nfp/functions.ts' (the translator routes them there); tail calls
 * and every other helper are refused by name.
 */
import type { BrInsn, ImmedInsn, LocalCsrRdInsn } from '../../../nic-sim/isa/instructions.js';
import { NO_DST, gprA, gprAB, gprB, imm } from '../../../nic-sim/isa/operands.js';
import { LM_ADDR_WRITE_LATENCY, type BrCond, type CsrName } from '../../../nic-sim/isa/tables.js';
import { HelperId } from '../../../xdp/helpers/helper-ids.js';
import { Errno } from '../../../xdp/maps/bpf-map.js';
import { ETH_HLEN } from '../../../xdp/runtime/xdp-buff.js';
import { helperName } from '../../../xdp/helpers/helper-registry.js';
import type { Insn as EbpfInsn } from '../../../xdp/isa/insn.js';
import type { InsnKind } from '../../../xdp/isa/kind.js';
import { alu, emit, forwardBranch, immOperand, loadImm32, move, relocNext, unsupported, type EmitCtx } from './emit.js';
import { CTX_GPR, IMM_GPR, TMP_GPR, dest, loGpr } from './regs.js';

const EINVAL = Errno.EINVAL;
/** Instructions a firmware call takes after the argument set-up: the branch and its two defer slots. */
const CALL_DEFER = 2;

type CallKind = Extract<InsnKind, { k: 'call' }>;

interface FirmwareArgs {
  /** eBPF register whose low word is the table id. */
  readonly table: number;
  /** eBPF register holding the key (or data) pointer: LM pointer 0. */
  readonly key: number;
  /** eBPF register holding the value pointer: LM pointer 2 (update only). */
  readonly value?: number;
}

function lmPointer(ctx: EmitCtx, csr: CsrName, reg: number): void {
  emit(ctx, { cls: 'local_csr', write: true, csr, src: gprA(loGpr(reg)) });
}

function firmwareCall(ctx: EmitCtx, id: number, args: FirmwareArgs): void {
  lmPointer(ctx, 'ACT_LM_ADDR0', args.key);
  if (args.value !== undefined) lmPointer(ctx, 'ACT_LM_ADDR2', args.value);
  // The routine runs after the branch and its defer slots: the last pointer's write delay is over by then.
  if (LM_ADDR_WRITE_LATENCY > CALL_DEFER + 1) throw new Error('JIT: LM write delay longer than a call');
  relocNext(ctx, 'helper', id);
  const br: BrInsn = { cls: 'br', cond: 'always', target: 0, defer: CALL_DEFER };
  emit(ctx, br);
  // const-src: a map set by an lddw just before is loaded here, as that lddw would have (its table id, relocated).
  const map = ctx.tables.get(ctx.index);
  if (map === undefined) move(ctx, gprA(0), gprB(loGpr(args.table)));
  else {
    relocNext(ctx, 'map-id', map);
    emit(ctx, { cls: 'immed', dst: gprA(0), value: 0, width: 'all', invert: false, shift: 0 });
  }
  const ret = ctx.out.length + 1;
  relocNext(ctx, 'immed-addr', ret);
  const insn: ImmedInsn = { cls: 'immed', dst: gprB(0), value: ret, width: 'all', invert: false, shift: 0 };
  emit(ctx, insn);
}

/** r0 = a 32-bit value sign-extended to 64 bits (the helpers' int results). */
function setR0(ctx: EmitCtx, v: number): void {
  loadImm32(ctx, dest(0, 0), v >>> 0);
  loadImm32(ctx, dest(0, 1), v < 0 ? 0xffffffff : 0);
}

function prandom(ctx: EmitCtx): void {
  const rd: LocalCsrRdInsn = { cls: 'local_csr', write: false, csr: 'PSEUDO_RND_NUM' };
  emit(ctx, rd);
  emit(ctx, { cls: 'immed', dst: gprAB(0), value: 0, width: 'all', invert: false, shift: 0 });
  loadImm32(ctx, dest(0, 1), 0);
}

/** A failure check: branch to the −EINVAL tail when `cond` holds. */
type FailIf = (cond: BrCond) => void;

/** Run the checks (each may branch to the −EINVAL tail), then `apply` and r0 = 0; both ways meet after. */
function checkedUpdate(ctx: EmitCtx, checks: (failIf: FailIf) => void, apply: () => void): void {
  const fails: (() => void)[] = [];
  checks((cond) => fails.push(forwardBranch(ctx, cond)));
  apply();
  setR0(ctx, 0);
  const done = forwardBranch(ctx, 'always');
  for (const land of fails) land();
  setR0(ctx, -EINVAL);
  done();
}

const TMP_A = gprA(TMP_GPR);
const TMP_B = gprB(TMP_GPR);
const LEN_B = gprB(IMM_GPR);

function adjustHead(ctx: EmitCtx): void {
  const win = ctx.opts.adjustHead;
  if (!win) throw unsupported(ctx, 'bpf_xdp_adjust_head: the card profile has no adjust_head window');
  const delta = gprB(loGpr(2));
  checkedUpdate(ctx, (failIf) => {
    // start' = data + delta; (start' − off_min) ≤ (off_max − off_min), unsigned; len' = len − delta ≥ ETH_HLEN, signed.
    alu(ctx, TMP_A, gprA(CTX_GPR.data), 'add', delta);
    alu(ctx, TMP_B, TMP_A, 'sub', imm(win.offMin));
    alu(ctx, NO_DST, immOperand(ctx, win.offMax - win.offMin, 'a'), 'sub', TMP_B);
    failIf('lo');
    alu(ctx, LEN_B, gprA(CTX_GPR.len), 'sub', delta);
    alu(ctx, NO_DST, LEN_B, 'sub', imm(ETH_HLEN));
    failIf('lt');
  }, () => {
    move(ctx, gprAB(CTX_GPR.data), TMP_A);
    move(ctx, gprAB(CTX_GPR.len), LEN_B);
  });
}

function adjustTail(ctx: EmitCtx): void {
  const delta = gprB(loGpr(2));
  checkedUpdate(ctx, (failIf) => {
    // len' = len + delta must carry out of 32 bits (delta < 0 and |delta| ≤ len) ...
    alu(ctx, TMP_A, gprA(CTX_GPR.len), 'add', delta);
    failIf('lo');
    // ... and stay at least ETH_HLEN.
    alu(ctx, NO_DST, TMP_A, 'sub', imm(ETH_HLEN));
    failIf('lt');
  }, () => move(ctx, gprAB(CTX_GPR.len), TMP_A));
}

/** One entry per helper the JIT lowers; any other is refused by name. */
const HELPERS: Readonly<Record<number, (ctx: EmitCtx) => void>> = {
  [HelperId.MAP_LOOKUP_ELEM]: (ctx) => firmwareCall(ctx, HelperId.MAP_LOOKUP_ELEM, { table: 1, key: 2 }),
  [HelperId.MAP_UPDATE_ELEM]: (ctx) => firmwareCall(ctx, HelperId.MAP_UPDATE_ELEM, { table: 1, key: 2, value: 3 }),
  [HelperId.MAP_DELETE_ELEM]: (ctx) => firmwareCall(ctx, HelperId.MAP_DELETE_ELEM, { table: 1, key: 2 }),
  [HelperId.PERF_EVENT_OUTPUT]: (ctx) => firmwareCall(ctx, HelperId.PERF_EVENT_OUTPUT, { table: 2, key: 4 }),
  [HelperId.GET_PRANDOM_U32]: prandom,
  [HelperId.XDP_ADJUST_HEAD]: adjustHead,
  [HelperId.XDP_ADJUST_TAIL]: adjustTail,
};

export function lowerCall(ctx: EmitCtx, insn: EbpfInsn, kind: CallKind): void {
  if (kind.target !== 'helper') {
    throw unsupported(ctx, `call (${kind.target === 'local' ? 'a bpf-to-bpf call' : kind.target}): only helper calls are lowered`);
  }
  const lower = HELPERS[insn.imm];
  if (!lower) throw unsupported(ctx, `call ${helperName(insn.imm) ?? `helper ${insn.imm}`}: the card has no lowering for it`);
  lower(ctx);
}
