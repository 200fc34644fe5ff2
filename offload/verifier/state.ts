/**
 * The verifier's state on one path (the kernel's bpf_verifier_state and
 * bpf_func_state): a frame per active bpf-to-bpf call, each with its eleven
 * registers and its 512-byte stack, where every byte is invalid, misc (some
 * scalar bytes), zero, or part of a spilled register whose full state is kept.
 */
import type { Marks } from './marks.js';
import { NOT_INIT, pointerReg, type RegState } from './reg-state.js';

export const MAX_BPF_STACK = 512;
export const SLOTS = MAX_BPF_STACK / 8;

/** Byte kinds of the stack (the kernel's STACK_INVALID / STACK_MISC / STACK_ZERO / STACK_SPILL). */
export const enum Slot { INVALID = 0, MISC = 1, ZERO = 2, SPILL = 3 }

export interface FuncState {
  readonly regs: RegState[];
  /** kinds[i] is the byte at fp - 512 + i. Shared with copies until one writes (ownStack). */
  kinds: Uint8Array;
  /** The register spilled into each 8-byte slot (slot k covers bytes 8k..8k+7). */
  spills: (RegState | undefined)[];
  /** `kinds` and `spills` may be shared with a copy of this frame. */
  stackShared: boolean;
  /** Where the caller continues after this frame returns (-1 for the main frame). */
  readonly callsite: number;
  readonly frameno: number;
  /** Deepest stack byte written (bytes below fp), for the stack-size check. */
  stackDepth: number;
}

export interface VerifierState {
  readonly frames: FuncState[];
  /** Parent in the exploration tree, and how many of its paths are still open (loop detection). */
  parent: VerifierState | undefined;
  branches: number;
  /** Instruction this state was saved at (for explored states). */
  insn: number;
  /** References held (ring-buffer reservations): released by submit/discard, or by a NULL result. */
  refs: { readonly id: number; readonly insn: number }[];
  /** This path segment's instructions since its parent checkpoint (precision.ts history entries). */
  hist: number[];
  /** How many may_goto fall-throughs this path took (each one a loop iteration the budget allowed). */
  mayGotoDepth: number;
  /** A path only a mispredicted branch takes (walked for loaders without CAP_PERFMON, Spectre v1). */
  speculative: boolean;
  /** Scalars the instruction being walked linked by refining one of them (recorded after it in `hist`). */
  pendingLinks?: { frame: number; slot: boolean; index: number }[];
  /** Entries of `hist` at jump targets or touching the stack (a checkpoint is forced past 40, as the kernel forces one). */
  histJumps: number;
  /** Stack slots written whole in this segment (none yet when undefined): a read mark does not pass above them. */
  written: Marks | undefined;
  /** A checkpoint dropped from the explored list while paths below it were still open. */
  evicted?: boolean;
  /** Checkpoints only (none yet when undefined): the scalars later paths needed exactly, and the stack slots they read. */
  precise: Marks | undefined;
  read: Marks | undefined;
}

export function newFrame(frameno: number, callsite: number): FuncState {
  const regs = new Array<RegState>(11).fill(NOT_INIT);
  regs[10] = pointerReg('fp', { frame: frameno });
  return { regs, kinds: new Uint8Array(MAX_BPF_STACK), spills: new Array(SLOTS).fill(undefined), stackShared: false, callsite, frameno, stackDepth: 0 };
}

export function cloneFrame(f: FuncState): FuncState {
  f.stackShared = true;
  return { regs: f.regs.slice(), kinds: f.kinds, spills: f.spills, stackShared: true, callsite: f.callsite, frameno: f.frameno, stackDepth: f.stackDepth };
}

/** Makes the frame's stack its own before a write. */
export function ownStack(f: FuncState): void {
  if (!f.stackShared) return;
  f.kinds = f.kinds.slice();
  f.spills = f.spills.slice();
  f.stackShared = false;
}

export function initialState(): VerifierState {
  return {
    frames: [newFrame(0, -1)], parent: undefined, branches: 1, insn: 0, refs: [], mayGotoDepth: 0, speculative: false,
    hist: [], histJumps: 0, written: undefined, precise: undefined, read: undefined,
  };
}

/** A copy for the other side of a branch: same frames, same segment so far, no checkpoint marks. */
export function cloneState(s: VerifierState): VerifierState {
  return {
    frames: s.frames.map(cloneFrame), parent: s.parent, branches: 0, insn: s.insn, refs: s.refs.slice(), mayGotoDepth: s.mayGotoDepth,
    speculative: s.speculative,
    hist: s.hist.slice(), histJumps: s.histJumps, written: s.written?.slice(), precise: undefined, read: undefined,
  };
}

export const curFrame = (s: VerifierState): FuncState => s.frames[s.frames.length - 1]!;

/** Apply `fn` to every register and spilled register of every frame (the kernel's bpf_for_each_reg_in_vstate). */
export function mapAllRegs(s: VerifierState, fn: (r: RegState) => RegState): void {
  for (const f of s.frames) {
    for (let i = 0; i < f.regs.length; i++) f.regs[i] = fn(f.regs[i]!);
    for (let k = 0; k < SLOTS; k++) {
      const sp = f.spills[k];
      if (sp === undefined) continue;
      const changed = fn(sp);
      if (changed === sp) continue;
      ownStack(f);
      f.spills[k] = changed;
    }
  }
}
