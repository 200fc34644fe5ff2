/**
 * State equivalence for pruning (the kernel's states_equal, regsafe,
 * stacksafe and check_ids): a path may stop at a checkpoint whose explored
 * state was at least as permissive — every register the rest of the program
 * reads, and every stack slot something after the checkpoint read, is within
 * what was already proven safe. Scalars count only where a later path needed
 * them precisely (precision.ts); unread stack slots not at all (read-marks.ts).
 * The exact form (both ways, everything) detects loops that change nothing.
 */
import { hasReg, hasSlot } from './marks.js';
import { unknownReg, type RegState } from './reg-state.js';
import { scalarWithin } from './scalar.js';
import { MAX_BPF_STACK, SLOTS, Slot, type FuncState, type VerifierState } from './state.js';

export interface CompareOptions {
  /** Both states alike in everything (infinite-loop detection), not merely `old` covering `cur`. */
  readonly exact: boolean;
  /** Compare every scalar by range, precise or not (a loop's states, whose marks are not final yet). */
  readonly rangeWithin?: boolean;
  /** Registers live where the states are compared, per frame (the innermost frame's and each caller's after its call). */
  readonly live: (frame: number) => number;
  /** Without CAP_PERFMON the stack may not be read uninitialised, so invalid bytes are not misc. */
  readonly privileged: boolean;
  /**
   * Every scalar counts as precise (as for a loader without CAP_BPF, whose scalars the kernel marks
   * precise from the start): a state is pruned only within one already walked, values included.
   */
  readonly allPrecise?: boolean;
}

/** Ids in `old` and `cur` must correspond one to one (check_ids). */
class IdMap {
  /** Pairs old, cur, old, cur, ... (few per comparison). */
  private readonly pairs: number[] = [];
  private next = -1;
  /** An id no state has (negative), for a value that stands alone. */
  fresh(): number {
    return this.next--;
  }
  check(o: number, c: number): boolean {
    if ((o === 0) !== (c === 0)) return false;
    if (o === 0) return true;
    for (let i = 0; i < this.pairs.length; i += 2) {
      if (this.pairs[i] === o) return this.pairs[i + 1] === c;
      if (this.pairs[i + 1] === c) return false;
    }
    this.pairs.push(o, c);
    return true;
  }
}

const UNBOUND: RegState = unknownReg();

/** Is `cur` covered by `old`: everything `old` allowed, `cur` allows too? */
export function statesEqual(old: VerifierState, cur: VerifierState, opts: CompareOptions): boolean {
  if (old.frames.length !== cur.frames.length || old.refs.length !== cur.refs.length) return false;
  // What held on a mispredicted path proves nothing for a real one.
  if (old.speculative && !cur.speculative) return false;
  const ids = new IdMap();
  for (let i = 0; i < old.refs.length; i++) if (!ids.check(old.refs[i]!.id, cur.refs[i]!.id)) return false;
  for (let i = 0; i < old.frames.length; i++) {
    const fo = old.frames[i]!;
    const fc = cur.frames[i]!;
    if (fo.callsite !== fc.callsite) return false;
    const live = opts.live(i);
    for (let r = 0; r < 11; r++) {
      if ((live >> r) & 1 && !regSafe(fo.regs[r]!, fc.regs[r]!, ids, opts, opts.allPrecise === true || hasReg(old.precise, i, r))) return false;
    }
    if (!stackSafe(old, fo, fc, i, ids, opts)) return false;
  }
  return true;
}

function regSafe(o: RegState, c: RegState, ids: IdMap, opts: CompareOptions, precise: boolean): boolean {
  if (opts.exact) {
    if (o.type !== c.type) return false;
    if (o.type === 'not_init') return true;
  } else if (o.type === 'not_init') {
    return true;
  }
  if (o.type !== c.type) return false;
  if (o.type === 'scalar' && !opts.exact && !precise && !opts.rangeWithin) return true;
  // A scalar's `off` is its distance from the copy it is linked to: it matters where `old` is linked so.
  if (o.type === 'scalar' && !opts.exact) {
    if (o.id !== 0 && (o.off !== 0) !== (c.off !== 0)) return false;
    if (o.off !== 0 && o.off !== c.off) return false;
  } else if (o.off !== c.off) {
    return false;
  }
  if (o.map !== c.map || o.memSize !== c.memSize || o.frame !== c.frame || o.btf?.id !== c.btf?.id) return false;
  if (!scalarWithin(o.s, c.s)) return false;
  if (opts.exact && !scalarWithin(c.s, o.s)) return false;
  // A pointer known to be at or past the end (negative range) matches only the same knowledge.
  if ((o.type === 'pkt' || o.type === 'pkt_meta') && (opts.exact || o.range < 0 || c.range < 0 ? o.range !== c.range : o.range > c.range)) return false;
  if (o.type !== 'scalar') return ids.check(o.id, c.id);
  // Linked scalars must be linked the same way in `cur`; an unlinked one stands for itself (check_scalar_ids).
  return o.id === 0 || ids.check(o.id, c.id !== 0 ? c.id : ids.fresh());
}

/** The scalar a read of a whole slot gives, if it gives one: a spilled 8-byte scalar, or anything for all-misc bytes. */
function slotScalar(f: FuncState, k: number, privileged: boolean): RegState | undefined {
  const b = k * 8;
  const sp = f.spills[k];
  if (f.kinds[b] === Slot.SPILL && f.kinds[b + 7] === Slot.SPILL && sp?.type === 'scalar') return sp;
  for (let i = b; i < b + 8; i++) {
    const kind = f.kinds[i]!;
    if (kind !== Slot.MISC && !(kind === Slot.INVALID && privileged)) return undefined;
  }
  return UNBOUND;
}

function stackSafe(old: VerifierState, fo: FuncState, fc: FuncState, frame: number, ids: IdMap, opts: CompareOptions): boolean {
  // Bytes below the deepest write of either state are untouched in both.
  const first = Math.floor((MAX_BPF_STACK - Math.max(fo.stackDepth, fc.stackDepth, 8)) / 8);
  for (let k = first; k < SLOTS; k++) {
    const b = k * 8;
    if (opts.exact) {
      for (let i = b; i < b + 8; i++) if (fo.kinds[i] !== fc.kinds[i]) return false;
    } else if (!hasSlot(old.read, frame, k)) {
      continue; // nothing after the checkpoint read it
    }
    if (!opts.exact) {
      const so = slotScalar(fo, k, opts.privileged);
      const sc = slotScalar(fc, k, opts.privileged);
      if (so && sc) {
        if (!regSafe(so, sc, ids, opts, opts.allPrecise === true || hasSlot(old.precise, frame, k))) return false;
        continue;
      }
    }
    for (let i = b; i < b + 8; i++) {
      const ko = fo.kinds[i]!;
      const kc = fc.kinds[i]!;
      if (opts.exact || ko === Slot.INVALID) continue;
      if (ko === Slot.MISC && (opts.privileged || kc === Slot.ZERO)) continue;
      if (ko !== kc) return false;
    }
    if (fo.kinds[b] === Slot.SPILL) {
      const so = fo.spills[k];
      const sc = fc.spills[k];
      if (!so || !sc) {
        if (so !== sc) return false;
        continue;
      }
      if (!regSafe(so, sc, ids, opts, opts.allPrecise === true || hasSlot(old.precise, frame, k))) return false;
    }
  }
  return true;
}
