/**
 * The passes that remove whole eBPF instructions (nfp/passes.ts), decided from the
 * records before anything is emitted — the kernel's `meta->skip`:
 *
 * - reg-init: `mov64 rX, rY` where rY is the context on every path (the card's context
 *   is registers, so the copy carries nothing);
 * - ld-shift: `lsh64 r, 32` followed by `rsh64 r, 32` (or `arsh64 r, 32` of a value
 *   below 2^31) when r's high word is already zero and the second is no jump target;
 * - dead-code: instructions the verifier never reached, and conditional jumps whose
 *   target it never reached (never taken);
 * - fuse-mov: the second instruction of a fused move (its code goes with the move).
 */
import { jumpTarget, jumpTargets, type PlanRecord } from './jit-records.js';
import type { PassName } from './passes.js';

type Rec = PlanRecord;

const isShift32 = (r: Rec | undefined, op: string, dst: number): boolean =>
  !!r && r.kind.k === 'alu' && r.kind.width === 64 && r.kind.op === op && !r.kind.useReg && r.insn.imm === 32 && r.insn.dst === dst;

const FUSABLE: ReadonlySet<string> = new Set(['add', 'sub', 'and', 'or', 'xor']);
/** Constant shifts fuse too (a shift by a register reads its amount from a register the move may feed). */
const FUSABLE_SHIFTS: ReadonlySet<string> = new Set(['lsh', 'rsh', 'arsh']);

/**
 * fuse-mov: `mov64 rX, rY` followed by a 64-bit add/sub/and/or/xor or constant shift on rX (its source not rX, no
 * jump landing on it) becomes one operation reading rY (`rX = r10; rX ± c`: the stack address, one constant) — lowered at the move's place and
 * attributed to it, the second instruction emitting nothing. By eBPF index of the move: the
 * operation's record and rY.
 */
function fusedMoves(records: readonly Rec[], passes: ReadonlySet<PassName>, skipped: ReadonlySet<number>): Map<number, { readonly op: Rec; readonly from: number }> {
  const out = new Map<number, { op: Rec; from: number }>();
  if (!passes.has('fuse-mov')) return out;
  const targets = jumpTargets(records);
  records.forEach((r, i) => {
    const next = records[i + 1];
    const k = r.kind;
    if (!next || k.k !== 'alu' || k.op !== 'mov' || k.width !== 64 || !k.useReg || r.insn.src === r.insn.dst) return;
    const n = next.kind;
    if (n.k !== 'alu' || n.width !== 64 || next.insn.dst !== r.insn.dst || targets.has(next.index)) return;
    // A copy of r10 fuses with a constant added or subtracted: the stack address itself (typed programs only).
    if (r.insn.src === 10 && (r.reads === undefined || n.useReg || (n.op !== 'add' && n.op !== 'sub'))) return;
    if (!FUSABLE.has(n.op) && !(FUSABLE_SHIFTS.has(n.op) && !n.useReg)) return;
    if (n.useReg && next.insn.src === r.insn.dst) return;
    // What another pass already leaves out (an ld-shift pair, dead code) is not fused.
    if (r.visits === 0 || next.visits === 0 || skipped.has(r.index) || skipped.has(next.index)) return;
    // A copy of the context is reg-init's (it emits nothing at all).
    if (r.reads?.[r.insn.src]?.types.has('ctx')) return;
    out.set(r.index, { op: next, from: r.insn.src });
  });
  return out;
}

/** The instructions that emit nothing, and the fused moves (emitted as their operation). */
export function skippedInsns(records: readonly Rec[], passes: ReadonlySet<PassName>): { skip: Set<number>; fused: Map<number, { readonly op: Rec; readonly from: number }> } {
  const skip = factSkips(records, passes);
  const fused = fusedMoves(records, passes, skip);
  for (const f of fused.values()) skip.add(f.op.index);
  return { skip, fused };
}

function factSkips(records: readonly Rec[], passes: ReadonlySet<PassName>): Set<number> {
  const skip = new Set<number>();
  if (!records.some((r) => r.reads !== undefined)) return skip;
  const at = new Map(records.map((r) => [r.index, r]));
  const targets = jumpTargets(records);
  records.forEach((r, i) => {
    const k = r.kind;
    if (passes.has('dead-code')) {
      if (r.visits === 0) return void skip.add(r.index);
      const t = jumpTarget(r);
      if (k.k === 'jcond' && t !== undefined && at.get(t)?.visits === 0) return void skip.add(r.index);
    }
    if (passes.has('reg-init') && k.k === 'alu' && k.op === 'mov' && k.width === 64 && k.useReg) {
      const f = r.reads?.[r.insn.src];
      if (f && f.types.size === 1 && f.types.has('ctx')) skip.add(r.index);
    }
    if (passes.has('ld-shift') && isShift32(r, 'lsh', r.insn.dst)) {
      const next = records[i + 1];
      const f = r.reads?.[r.insn.dst];
      const high0 = !!f && f.types.size === 1 && f.types.has('scalar') && f.umax !== undefined && f.umax < 1n << 32n;
      const signedOk = !!f && f.umax !== undefined && f.umax < 1n << 31n;
      if (next && high0 && !targets.has(next.index) && (isShift32(next, 'rsh', r.insn.dst) || (signedOk && isShift32(next, 'arsh', r.insn.dst)))) {
        skip.add(r.index);
        skip.add(next.index);
      }
    }
  });
  return skip;
}
