/**
 * Stack liveness by read marks (the kernel's mark_reg_read / REG_LIVE_READ and
 * propagate_liveness): a read of a stack slot marks it in every checkpoint
 * above the current path, up to the segment that last wrote the whole slot.
 * A finished checkpoint compares only the slots something after it read, so
 * paths that differ in dead stack bytes meet. (Registers need no marks: their
 * liveness is computed statically, liveness.ts.)
 */
import { forEachMark, hasSlot, MAX_FRAMES, newMarks, setSlot } from './marks.js';
import type { VerifierState } from './state.js';

/** Slot `k` of frame `frame` is read on the path of `st`. */
export function markSlotRead(st: VerifierState, frame: number, k: number): void {
  if (hasSlot(st.written, frame, k)) return;
  for (let p = st.parent; p && p.frames.length > frame; p = p.parent) {
    if (hasSlot(p.read, frame, k)) return; // marked before, and everything above it with it
    setSlot((p.read ??= newMarks()), frame, k);
    if (hasSlot(p.written, frame, k)) return;
  }
}

/** `cur` was pruned at `old`: what the paths after `old` read, the path of `cur` reads too. */
export function propagateReads(old: VerifierState, cur: VerifierState): void {
  for (let fr = 0; fr < Math.min(old.frames.length, MAX_FRAMES); fr++) {
    forEachMark(old.read, fr, (kind, k) => {
      if (kind === 'slot') markSlotRead(cur, fr, k);
    });
  }
}
