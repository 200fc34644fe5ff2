/**
 * bpf-to-bpf calls on the card (the kernel JIT's `bpf_to_bpf_call`, its prologue and
 * epilogue of subprograms, `nfp_push_regs`/`nfp_pop_regs`, in drivers/net/ethernet/
 * netronome/nfp/bpf/jit.c — done here with static frames): the verifier forbids
 * recursion, so every function has at most one activation at a time and can own a
 * fixed part of local memory:
 *
 *   LM 0 … 511                  the main program's stack (r10 = 512)
 *   then, per subprogram g:     its frame (r10 of g at the frame's top, the frame's
 *                               size its deepest r10 offset rounded to 32 bytes, or
 *                               512 when it takes r10 as a value), then a 64-byte save
 *                               area: r6–r9 (8 words), then the return address
 *
 * A call is `br[g], defer[1]` with `immed[gprB_31, return]` in the slot (the return
 * address as an `immed-addr` relocation); back in the caller, LM pointer 1 is pointed
 * at the caller's top window again. g's prologue points LM pointer 1 at its own top
 * window and saves the registers the caller must find unchanged that g writes (of
 * r6–r9, callee-saved in eBPF) and, if g calls further, its return address; each
 * `exit` of g restores them and returns with `rtn[gprB_31]`.
 *
 * Stack pointers in registers (r10 + c passed between functions) are LM addresses;
 * in a program with subprograms they are reached through LM pointer 3 set from the
 * register at run time (nfp/lower-mem.ts), since the frame they point into is not
 * known statically.
 */
import type { BrAluInsn, ImmedInsn } from '../../../nic-sim/isa/instructions.js';
import { NOP } from '../../../nic-sim/isa/instructions.js';
import { gprB, lm } from '../../../nic-sim/isa/operands.js';
import { LM_ADDR_WRITE_LATENCY, LM_BYTES } from '../../../nic-sim/isa/tables.js';
import type { Insn as EbpfInsn } from '../../../xdp/isa/insn.js';
import type { InsnKind } from '../../../xdp/isa/kind.js';
import { JitError } from '../errors.js';
import { NONE_SRC, alu, branch, emit, relocNext, type EmitCtx } from './emit.js';
import { FP, STACK_SIZE, STACK_TOP, WINDOW, csrWrite } from './lower-stack.js';
import { dest, gprOf } from './regs.js';

/** The link register: a call leaves the return address here. */
export const LINK_GPR = 31;
/** Bytes of a subprogram's save area: r6–r9 (one window), the return address (another). */
const SAVE_BYTES = 2 * WINDOW;
const CALLEE_SAVED = [6, 7, 8, 9] as const;

/** One function of the program, as the JIT lays it out. */
export interface FuncFrame {
  /** eBPF index of its first instruction. */
  readonly start: number;
  /** LM address of its r10. */
  readonly frameTop: number;
  /** LM address of its save area (subprograms only). */
  readonly save: number;
  /** Of r6–r9, those it writes (a subprogram saves and restores them). */
  readonly saved: readonly number[];
  /** Does it call other functions (so that it must keep its own return address)? */
  readonly calls: boolean;
}

interface Insnish {
  readonly index: number;
  readonly insn: EbpfInsn;
  readonly kind: InsnKind;
}

const isLocalCall = (r: Insnish): boolean => r.kind.k === 'call' && r.kind.target === 'local';
export const callTarget = (r: Insnish): number => r.index + r.insn.imm + 1;

/** The registers an instruction writes (what a subprogram must save of r6–r9). */
function written(r: Insnish): number | undefined {
  const k = r.kind.k;
  return k === 'alu' || k === 'ldx' || k === 'lddw' || k === 'end' ? r.insn.dst : undefined;
}

/** Deepest r10 offset used by a function's instructions, as frame bytes (512 when r10 escapes as a value). */
function frameBytes(body: readonly Insnish[]): number {
  let deepest = 0;
  for (const r of body) {
    const k = r.kind;
    if (k.k === 'alu' && k.useReg && r.insn.src === FP) return STACK_SIZE;
    if ((k.k === 'ldx' && r.insn.src === FP) || ((k.k === 'st' || k.k === 'stx') && r.insn.dst === FP)) deepest = Math.max(deepest, -r.insn.off);
  }
  return Math.ceil(deepest / WINDOW) * WINDOW;
}

/** Functions (main first) and, per eBPF index, the function it belongs to. */
export function planFunctions(records: readonly Insnish[]): { frames: FuncFrame[]; frameOf: (index: number) => FuncFrame } {
  const starts = [...new Set([records[0]?.index ?? 0, ...records.filter(isLocalCall).map(callTarget)])].sort((a, b) => a - b);
  const bodies = starts.map((s, i) => records.filter((r) => r.index >= s && (i + 1 === starts.length || r.index < starts[i + 1]!)));
  let next = STACK_TOP;
  const frames = bodies.map((body, i): FuncFrame => {
    const saved = CALLEE_SAVED.filter((reg) => body.some((r) => written(r) === reg));
    const calls = body.some(isLocalCall);
    if (i === 0) return { start: starts[0]!, frameTop: STACK_TOP, save: -1, saved: [], calls };
    const frameTop = next + Math.max(WINDOW, frameBytes(body));
    const save = frameTop;
    next = save + SAVE_BYTES;
    if (next > LM_BYTES) {
      throw new JitError('too-large', starts[i]!, `the subprograms' frames and save areas need ${next} bytes of local memory; the card has ${LM_BYTES}`);
    }
    return { start: starts[i]!, frameTop, save, saved, calls };
  });
  return {
    frames,
    frameOf: (index) => {
      let f = frames[0]!;
      for (const fr of frames) if (fr.start <= index) f = fr;
      return f;
    },
  };
}

const topWindow = (f: FuncFrame): number => f.frameTop - WINDOW;

function waitLm(ctx: EmitCtx): void {
  for (let i = 0; i < LM_ADDR_WRITE_LATENCY; i++) emit(ctx, NOP);
}

/** Point LM pointer 3 at the registers' window and 2 at the return address's, and wait. */
function saveArea(ctx: EmitCtx, f: FuncFrame): void {
  csrWrite(ctx, 'ACT_LM_ADDR3', f.save);
  if (f.calls) csrWrite(ctx, 'ACT_LM_ADDR2', f.save + WINDOW);
  waitLm(ctx);
}

/** A subprogram's entry: its top window in LM pointer 1, then the callee-saved registers it writes and its return address saved. */
export function emitPrologue(ctx: EmitCtx, f: FuncFrame): void {
  if (ctx.opts.usesStack) csrWrite(ctx, 'ACT_LM_ADDR1', topWindow(f));
  if (f.saved.length === 0 && !f.calls) {
    if (ctx.opts.usesStack) waitLm(ctx);
    return;
  }
  saveArea(ctx, f);
  f.saved.forEach((reg, k) => {
    alu(ctx, lm(3, 2 * k), NONE_SRC, 'none', gprB(gprOf(reg, 0)));
    alu(ctx, lm(3, 2 * k + 1), NONE_SRC, 'none', gprB(gprOf(reg, 1)));
  });
  if (f.calls) alu(ctx, lm(2, 0), NONE_SRC, 'none', gprB(LINK_GPR));
}

/** A subprogram's `exit`: restore what the prologue saved, return through the link register. */
export function emitReturn(ctx: EmitCtx, f: FuncFrame): void {
  if (f.saved.length > 0 || f.calls) {
    saveArea(ctx, f);
    f.saved.forEach((reg, k) => {
      alu(ctx, dest(reg, 0), NONE_SRC, 'none', lm(3, 2 * k));
      alu(ctx, dest(reg, 1), NONE_SRC, 'none', lm(3, 2 * k + 1));
    });
    if (f.calls) alu(ctx, gprB(LINK_GPR), NONE_SRC, 'none', lm(2, 0));
  }
  const rtn: BrAluInsn = { cls: 'br_alu', src: gprB(LINK_GPR), defer: 0 };
  emit(ctx, rtn);
}

/** `call +imm` (a subprogram): branch with the return address in the defer slot; back in the caller, its top window again. */
export function emitLocalCall(ctx: EmitCtx, r: Insnish, caller: FuncFrame): void {
  const br = ctx.out.length;
  branch(ctx, 'always', { k: 'insn', index: callTarget(r) });
  ctx.out[br] = { ...(ctx.out[br] as Extract<typeof ctx.out[number], { cls: 'br' }>), defer: 1 };
  const ret = ctx.out.length + 1;
  relocNext(ctx, 'immed-addr', ret);
  const link: ImmedInsn = { cls: 'immed', dst: gprB(LINK_GPR), value: ret, width: 'all', invert: false, shift: 0 };
  emit(ctx, link);
  if (ctx.opts.usesStack) {
    csrWrite(ctx, 'ACT_LM_ADDR1', topWindow(caller));
    waitLm(ctx);
  }
}
