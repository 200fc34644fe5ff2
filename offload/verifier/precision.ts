/**
 * Precision tracking (the kernel's mark_chain_precision and backtrack_insn in
 * kernel/bpf/verifier.c). A checkpoint compares a scalar only if some later
 * path needed its exact value: a branch whose outcome it decided, the offset
 * added to a pointer, a helper's size or constant argument, a map key.
 * When such a need arises, the instructions of the current path are walked
 * backwards to find every register and stack slot the value came from, and
 * those are marked precise in each checkpoint on the way; everything else may
 * differ between paths that meet there, which is what lets loops converge.
 *
 * Each path segment keeps its instructions as history entries: the slot index,
 * and for spills and fills the frame and stack slot they touched (the kernel's
 * INSN_F_STACK_ACCESS jump-history flag).
 */
import type { SlotProgram } from './cfg.js';
import {
  clearFrame, clearReg, clearSlot, forEachMark, hasReg, hasSlot, hasSlots, isEmpty, newMarks, regWord, setReg, setRegWord, setSlot,
  type Marks,
} from './marks.js';
import { Slot, SLOTS, type VerifierState } from './state.js';

const PC_LIMIT = 1 << 20;
const R0 = 1;
const R1_R5 = 0b111110;

/**
 * A history entry after a conditional jump: a register or spilled slot the jump's refinement was
 * copied to (a linked scalar, sync_linked_regs). Negative, so never mistaken for an instruction.
 */
export function linkEntry(frame: number, slot: boolean, index: number): number {
  return -(1 + frame * 128 + (slot ? 64 : 0) + index);
}

/** A group of links: if any is needed precisely, all are (they were refined as one). */
function syncLinks(group: readonly number[], bt: Marks): void {
  const decoded = group.map((e) => {
    const v = -e - 1;
    return { frame: v >> 7, slot: (v & 64) !== 0, index: v & 63 };
  });
  if (!decoded.some((l) => (l.slot ? hasSlot(bt, l.frame, l.index) : hasReg(bt, l.frame, l.index)))) return;
  for (const l of decoded) {
    if (l.slot) setSlot(bt, l.frame, l.index);
    else setReg(bt, l.frame, l.index);
  }
}

/** A history entry: the instruction, and the stack slot it spilled to or filled from. */
export function historyEntry(pc: number, frame = -1, slot = 0): number {
  return frame < 0 ? pc : pc + PC_LIMIT * (1 + frame * SLOTS + slot);
}

/**
 * One instruction backwards: what the marked values after it depend on before it.
 * Returns the frame current before the instruction, or -1 when the history cannot be followed.
 */
function backtrackInsn(p: SlotProgram, entry: number, bt: Marks, frame: number): number {
  const pc = entry % PC_LIMIT;
  const access = Math.floor(entry / PC_LIMIT) - 1;
  const insn = p.insnAt[pc]!;
  const k = p.kindAt[pc]!;
  switch (k.k) {
    case 'alu':
      if (!hasReg(bt, frame, insn.dst)) return frame;
      if (k.op === 'mov' || k.op === 'movsx') clearReg(bt, frame, insn.dst);
      if (k.useReg && k.op !== 'neg') setReg(bt, frame, insn.src);
      return frame;
    case 'lddw':
      clearReg(bt, frame, insn.dst);
      return frame;
    case 'ldx':
      if (!hasReg(bt, frame, insn.dst)) return frame;
      clearReg(bt, frame, insn.dst);
      if (access >= 0) setSlot(bt, Math.floor(access / SLOTS), access % SLOTS);
      return frame;
    case 'st':
    case 'stx': {
      // A store's base is a pointer: a precise scalar there means the history is not what it seems.
      if (hasReg(bt, frame, insn.dst)) return -1;
      if (access < 0) return frame;
      const sf = Math.floor(access / SLOTS);
      const slot = access % SLOTS;
      if (!hasSlot(bt, sf, slot)) return frame;
      clearSlot(bt, sf, slot);
      if (k.k === 'stx') setReg(bt, frame, insn.src);
      return frame;
    }
    case 'jcond':
      // After "dst OP src" each side was refined by the other: both are needed.
      if (k.useReg && (hasReg(bt, frame, insn.dst) || hasReg(bt, frame, insn.src))) {
        setReg(bt, frame, insn.dst);
        setReg(bt, frame, insn.src);
      }
      return frame;
    case 'call': {
      if (k.target === 'local') {
        // Backwards over a call: from the callee's entry to the caller; only arguments came from there.
        if ((regWord(bt, frame) & ~R1_R5) !== 0 || hasSlots(bt, frame) || frame === 0) return -1;
        const args = regWord(bt, frame);
        clearFrame(bt, frame);
        setRegWord(bt, frame - 1, regWord(bt, frame - 1) | args);
        return frame - 1;
      }
      // A helper's result depends on nothing the program tracks; its arguments are gone after it.
      clearReg(bt, frame, 0);
      return (regWord(bt, frame) & R1_R5) !== 0 ? -1 : frame;
    }
    case 'exit': {
      // Backwards over a subprogram's exit: the caller's r0 is the callee's r0.
      const w = regWord(bt, frame);
      if ((w & R1_R5) !== 0) return -1;
      setRegWord(bt, frame, w & ~R0);
      if (w & R0) setReg(bt, frame + 1, 0);
      return frame + 1;
    }
    default:
      // ja, end (in place), atomics (a fetched value keeps its mark: more precision, never less).
      return frame;
  }
}

/** Fallback when the history cannot be followed: every scalar of every checkpoint above `st` is precise. */
export function markAllPrecise(st: VerifierState): void {
  for (let s = st.parent; s; s = s.parent) {
    s.frames.forEach((f, fr) => {
      f.regs.forEach((r, i) => {
        if (r.type === 'scalar') setReg((s.precise ??= newMarks()), fr, i);
      });
      for (let k = 0; k < SLOTS; k++) if (isSpilledScalar(s, fr, k)) setSlot((s.precise ??= newMarks()), fr, k);
    });
  }
}

function isSpilledScalar(s: VerifierState, frame: number, k: number): boolean {
  const f = s.frames[frame]!;
  return f.kinds[k * 8] === Slot.SPILL && f.spills[k]?.type === 'scalar';
}

/**
 * Marks precise, in every checkpoint above `st`, the registers and slots the values in `bt` (as
 * they are now, before the instruction at hand) were computed from. `bt` is consumed.
 */
export function markChainPrecision(p: SlotProgram, st: VerifierState, bt: Marks): void {
  let frame = st.frames.length - 1;
  const links: number[] = [];
  for (let s: VerifierState = st; ;) {
    for (let i = s.hist.length - 1; i >= 0 && !isEmpty(bt); i--) {
      const entry = s.hist[i]!;
      if (entry < 0) {
        links.push(entry);
        continue;
      }
      if (links.length > 0) {
        syncLinks(links, bt);
        links.length = 0;
      }
      frame = backtrackInsn(p, entry, bt, frame);
      if (frame < 0) {
        markAllPrecise(st);
        return;
      }
    }
    const parent = s.parent;
    if (!parent || isEmpty(bt)) return;
    const marks = (parent.precise ??= newMarks());
    for (let fr = 0; fr <= frame; fr++) {
      forEachMark(bt, fr, (kind, i) => {
        const needed = kind === 'reg' ? parent.frames[fr]?.regs[i]?.type === 'scalar' : parent.frames[fr] !== undefined && isSpilledScalar(parent, fr, i);
        const already = kind === 'reg' ? hasReg(marks, fr, i) : hasSlot(marks, fr, i);
        if (!needed || already) {
          if (kind === 'reg') clearReg(bt, fr, i);
          else clearSlot(bt, fr, i);
        } else if (kind === 'reg') setReg(marks, fr, i);
        else setSlot(marks, fr, i);
      });
    }
    s = parent;
  }
}
