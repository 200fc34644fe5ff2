/**
 * Conditional jumps over scalars: whether `if a op b` is decided by what is known
 * (the kernel's is_scalar_branch_taken()) and what each edge teaches about both
 * operands (regs_refine_cond_op() then reg_bounds_sync() on each, as
 * reg_set_min_max() does), in kernel/bpf/verifier.c. See docs/verifier-scalars.md.
 */
import { REG_A, REG_B, Reg, SUM, add64, ltS, ltU, sub64, type Scalar } from './scalar.js';
import { U32_MASK, splitIntersect, tnumOverlap, tnumSubreg, type Tnum } from './tnum.js';

export type CmpOp = 'jeq' | 'jne' | 'jgt' | 'jge' | 'jlt' | 'jle' | 'jsgt' | 'jsge' | 'jslt' | 'jsle' | 'jset';

/** The comparisons refinement works with: CmpOp plus "jset not taken" (the kernel's BPF_JSET | BPF_X). */
type RefineOp = CmpOp | 'jnset';

/** The condition of the other edge: a op b is false exactly when a rev(op) b is true. */
const REVERSE: Readonly<Record<CmpOp, RefineOp>> = {
  jeq: 'jne', jne: 'jeq', jset: 'jnset',
  jge: 'jlt', jgt: 'jle', jle: 'jgt', jlt: 'jge',
  jsge: 'jslt', jsgt: 'jsle', jsle: 'jsgt', jslt: 'jsge',
};

/** a op b  <=>  b flip(op) a. */
const FLIP: Readonly<Partial<Record<RefineOp, RefineOp>>> = { jge: 'jle', jgt: 'jlt', jsge: 'jsle', jsgt: 'jslt' };

const constAt = (s: Scalar, is32: boolean): boolean => (is32 ? (s.var.mask & U32_MASK) : s.var.mask) === 0n;

/**
 * Is `if a op b` (64-bit compare, or 32-bit for width 32) decided by what is
 * known? 1: always true, 0: always false, -1: either. Both operands are scalars;
 * a register compared with itself is the caller's case (the kernel decides it
 * before looking at bounds).
 */
export function branchTaken(op: CmpOp, a: Scalar, b: Scalar, width: 32 | 64): 0 | 1 | -1 {
  if (width === 32) {
    return decide(op, a, b, true, tnumSubreg(a.var), tnumSubreg(b.var),
      a.u32min, a.u32max, a.s32min, a.s32max, b.u32min, b.u32max, b.s32min, b.s32max);
  }
  return decide(op, a, b, false, a.var, b.var, a.umin, a.umax, a.smin, a.smax, b.umin, b.umax, b.smin, b.smax);
}

/** is_scalar_branch_taken over one width's tnums and bounds (numbers for 32 bits, bigints for 64). */
function decide<N extends number | bigint>(
  op: CmpOp, a: Scalar, b: Scalar, is32: boolean, t1: Tnum, t2: Tnum,
  umin1: N, umax1: N, smin1: N, smax1: N, umin2: N, umax2: N, smin2: N, smax2: N,
): 0 | 1 | -1 {
  switch (op) {
    case 'jeq':
    case 'jne': {
      const eq = op === 'jeq' ? 1 : 0;
      const ne = op === 'jeq' ? 0 : 1;
      if (t1.mask === 0n && t2.mask === 0n) return t1.value === t2.value ? eq : ne;
      if (!tnumOverlap(t1, t2)) return ne;
      // Disjoint ranges cannot be equal.
      if (umin1 > umax2 || umax1 < umin2) return ne;
      if (smin1 > smax2 || smax1 < smin2) return ne;
      if (!is32) {
        if (a.u32min > b.u32max || a.u32max < b.u32min) return ne;
        if (a.s32min > b.s32max || a.s32max < b.s32min) return ne;
      }
      return -1;
    }
    case 'jset': {
      let second = b;
      if (!constAt(second, is32)) {
        second = a;
        [t1, t2] = [t2, t1];
      }
      if (!constAt(second, is32)) return -1;
      if ((~t1.mask & t1.value & t2.value) !== 0n) return 1;
      if (((t1.mask | t1.value) & t2.value) === 0n) return 0;
      return -1;
    }
    case 'jgt':
      if (umin1 > umax2) return 1;
      if (umax1 <= umin2) return 0;
      return -1;
    case 'jsgt':
      if (smin1 > smax2) return 1;
      if (smax1 <= smin2) return 0;
      return -1;
    case 'jlt':
      if (umax1 < umin2) return 1;
      if (umin1 >= umax2) return 0;
      return -1;
    case 'jslt':
      if (smax1 < smin2) return 1;
      if (smin1 >= smax2) return 0;
      return -1;
    case 'jge':
      if (umin1 >= umax2) return 1;
      if (umax1 < umin2) return 0;
      return -1;
    case 'jsge':
      if (smin1 >= smax2) return 1;
      if (smax1 < smin2) return 0;
      return -1;
    case 'jle':
      if (umax1 <= umin2) return 1;
      if (umin1 > umax2) return 0;
      return -1;
    case 'jsle':
      if (smax1 <= smin2) return 1;
      if (smin1 > smax2) return 0;
      return -1;
    default:
      return -1;
  }
}

const regConstAt = (r: Reg, is32: boolean): boolean => r.v.ml === 0 && (is32 || r.v.mh === 0);

/** regs_refine_cond_op: narrow r1 and r2 to the pairs for which `r1 op r2` holds. */
function refine(r1: Reg, r2: Reg, op: RefineOp, is32: boolean): void {
  const flipped = FLIP[op];
  if (flipped) {
    [r1, r2] = [r2, r1];
    op = flipped;
  }
  switch (op) {
    case 'jeq':
      if (is32) {
        r1.u32min = Math.max(r1.u32min, r2.u32min);
        r1.u32max = Math.min(r1.u32max, r2.u32max);
        r1.s32min = Math.max(r1.s32min, r2.s32min);
        r1.s32max = Math.min(r1.s32max, r2.s32max);
        r2.u32min = r1.u32min;
        r2.u32max = r1.u32max;
        r2.s32min = r1.s32min;
        r2.s32max = r1.s32max;
        // The subregisters' intersection, each keeping its own upper half.
        const ml = (r1.v.ml & r2.v.ml) >>> 0;
        const vl = ((r1.v.vl | r2.v.vl) & ~ml) >>> 0;
        r1.v.vl = r2.v.vl = vl;
        r1.v.ml = r2.v.ml = ml;
      } else {
        if (ltU(r1.uminH, r1.uminL, r2.uminH, r2.uminL)) r1.setUmin(r2.uminH, r2.uminL);
        if (ltU(r2.umaxH, r2.umaxL, r1.umaxH, r1.umaxL)) r1.setUmax(r2.umaxH, r2.umaxL);
        if (ltS(r1.sminH, r1.sminL, r2.sminH, r2.sminL)) r1.setSmin(r2.sminH, r2.sminL);
        if (ltS(r2.smaxH, r2.smaxL, r1.smaxH, r1.smaxL)) r1.setSmax(r2.smaxH, r2.smaxL);
        r2.setUmin(r1.uminH, r1.uminL);
        r2.setUmax(r1.umaxH, r1.umaxL);
        r2.setSmin(r1.sminH, r1.sminL);
        r2.setSmax(r1.smaxH, r1.smaxL);
        splitIntersect(r1.v, r1.v, r2.v);
        r2.v.copy(r1.v);
      }
      return;
    case 'jne': {
      // Only a constant at an end of the other's range can be cut off.
      if (!regConstAt(r2, is32)) [r1, r2] = [r2, r1];
      if (!regConstAt(r2, is32)) return;
      if (is32) {
        const u = r2.v.vl;
        const s = u | 0;
        if (r1.u32min === u) r1.u32min = (r1.u32min + 1) >>> 0;
        if (r1.u32max === u) r1.u32max = (r1.u32max - 1) >>> 0;
        if (r1.s32min === s) r1.s32min = (r1.s32min + 1) | 0;
        if (r1.s32max === s) r1.s32max = (r1.s32max - 1) | 0;
      } else {
        const { vh, vl } = r2.v;
        if (r1.uminH === vh && r1.uminL === vl) {
          add64(vh, vl, 0, 1);
          r1.setUmin(SUM.hi, SUM.lo);
        }
        if (r1.umaxH === vh && r1.umaxL === vl) {
          sub64(vh, vl, 0, 1);
          r1.setUmax(SUM.hi, SUM.lo);
        }
        if (r1.sminH === vh && r1.sminL === vl) {
          add64(vh, vl, 0, 1);
          r1.setSmin(SUM.hi, SUM.lo);
        }
        if (r1.smaxH === vh && r1.smaxL === vl) {
          sub64(vh, vl, 0, 1);
          r1.setSmax(SUM.hi, SUM.lo);
        }
      }
      return;
    }
    case 'jset': {
      if (!regConstAt(r2, is32)) [r1, r2] = [r2, r1];
      if (!regConstAt(r2, is32)) return;
      // Only a single-bit test says which bit is set.
      const vl = r2.v.vl;
      const vh = is32 ? 0 : r2.v.vh;
      const single = vh === 0 ? vl !== 0 && (vl & (vl - 1)) === 0 : vl === 0 && (vh & (vh - 1)) === 0;
      if (!single) return;
      r1.v.vl = (r1.v.vl | vl) >>> 0;
      r1.v.ml = (r1.v.ml & ~vl) >>> 0;
      r1.v.vh = (r1.v.vh | vh) >>> 0;
      r1.v.mh = (r1.v.mh & ~vh) >>> 0;
      return;
    }
    case 'jnset': {
      if (!regConstAt(r2, is32)) [r1, r2] = [r2, r1];
      if (!regConstAt(r2, is32)) return;
      const vl = r2.v.vl;
      const vh = is32 ? 0 : r2.v.vh;
      // None of the tested bits is set. The ranges are dropped first (they are rebuilt from var_off).
      r1.markUnbounded64();
      r1.markUnbounded32();
      r1.v.vl = (r1.v.vl & ~vl) >>> 0;
      r1.v.ml = (r1.v.ml & ~vl) >>> 0;
      r1.v.vh = (r1.v.vh & ~vh) >>> 0;
      r1.v.mh = (r1.v.mh & ~vh) >>> 0;
      return;
    }
    case 'jle':
      if (is32) {
        r1.u32max = Math.min(r1.u32max, r2.u32max);
        r2.u32min = Math.max(r1.u32min, r2.u32min);
      } else {
        if (ltU(r2.umaxH, r2.umaxL, r1.umaxH, r1.umaxL)) r1.setUmax(r2.umaxH, r2.umaxL);
        if (ltU(r2.uminH, r2.uminL, r1.uminH, r1.uminL)) r2.setUmin(r1.uminH, r1.uminL);
      }
      return;
    case 'jlt':
      if (is32) {
        r1.u32max = Math.min(r1.u32max, (r2.u32max - 1) >>> 0);
        r2.u32min = Math.max((r1.u32min + 1) >>> 0, r2.u32min);
      } else {
        sub64(r2.umaxH, r2.umaxL, 0, 1);
        if (ltU(SUM.hi, SUM.lo, r1.umaxH, r1.umaxL)) r1.setUmax(SUM.hi, SUM.lo);
        add64(r1.uminH, r1.uminL, 0, 1);
        if (ltU(r2.uminH, r2.uminL, SUM.hi, SUM.lo)) r2.setUmin(SUM.hi, SUM.lo);
      }
      return;
    case 'jsle':
      if (is32) {
        r1.s32max = Math.min(r1.s32max, r2.s32max);
        r2.s32min = Math.max(r1.s32min, r2.s32min);
      } else {
        if (ltS(r2.smaxH, r2.smaxL, r1.smaxH, r1.smaxL)) r1.setSmax(r2.smaxH, r2.smaxL);
        if (ltS(r2.sminH, r2.sminL, r1.sminH, r1.sminL)) r2.setSmin(r1.sminH, r1.sminL);
      }
      return;
    case 'jslt':
      if (is32) {
        r1.s32max = Math.min(r1.s32max, (r2.s32max - 1) | 0);
        r2.s32min = Math.max((r1.s32min + 1) | 0, r2.s32min);
      } else {
        sub64(r2.smaxH, r2.smaxL, 0, 1);
        if (ltS(SUM.hi, SUM.lo, r1.smaxH, r1.smaxL)) r1.setSmax(SUM.hi, SUM.lo);
        add64(r1.sminH, r1.sminL, 0, 1);
        if (ltS(r2.sminH, r2.sminL, SUM.hi, SUM.lo)) r2.setSmin(SUM.hi, SUM.lo);
      }
      return;
    default:
      return;
  }
}

/** What refineBranchDetail() reports about one edge. */
export interface BranchEdge {
  /** Both operands on the edge, or undefined when branchTaken() rules the edge out. */
  readonly regs: [Scalar, Scalar] | undefined;
  /**
   * The narrowing contradicted itself: no value takes this edge, but the kernel did
   * not predict it. The kernel then logs "verifier bug: REG INVARIANTS VIOLATION"
   * and explores the edge anyway with the contradictory register's bounds reset
   * (var_off kept) — which `regs` holds.
   */
  readonly invariantViolation: boolean;
}

/**
 * One edge of `if a op b goto` (taken = the jump edge), as the kernel's
 * check_cond_jmp_op() leaves the two operands.
 *
 * When branchTaken() already decides the jump, the kernel follows only the
 * possible edge and leaves both registers as they are; so does this (regs
 * undefined for the other edge). Otherwise both are narrowed (regs_refine_cond_op
 * with the edge's condition), synced and sanity-checked (reg_set_min_max).
 */
export function refineBranchDetail(op: CmpOp, a: Scalar, b: Scalar, width: 32 | 64, taken: boolean): BranchEdge {
  const pred = branchTaken(op, a, b, width);
  if (pred !== -1) return { regs: (pred === 1) === taken ? [a, b] : undefined, invariantViolation: false };
  const r1 = REG_A.load(a);
  const r2 = REG_B.load(b);
  refine(r1, r2, taken ? op : REVERSE[op], width === 32);
  r1.sync();
  r2.sync();
  const sane = r1.isSane() && r2.isSane();
  r1.sanitize();
  r2.sanitize();
  return { regs: [r1.toScalar(), r2.toScalar()], invariantViolation: !sane };
}

/**
 * Both operands as they are on one edge of `if a op b goto` (taken = the jump
 * edge), or undefined when the edge is impossible as the kernel sees it, i.e.
 * branchTaken() decides the other way. Every pair of values taking the edge is
 * kept. An edge whose narrowing contradicts itself is still returned, as the
 * kernel explores it (see refineBranchDetail).
 */
export function refineBranch(op: CmpOp, a: Scalar, b: Scalar, width: 32 | 64, taken: boolean): [Scalar, Scalar] | undefined {
  return refineBranchDetail(op, a, b, width, taken).regs;
}

/**
 * `if rX op rX`: a register compared with itself. Linux 6.18 gives it no special
 * treatment: branchTaken(op, a, a, width) decides as for two registers, and an
 * undecided edge is refined with both operands being the same register (so
 * `if r >= r` falling through narrows r by the impossible `r < r`, as the kernel
 * does). This is that refinement; undefined when branchTaken rules the edge out.
 */
export function refineBranchSelf(op: CmpOp, a: Scalar, width: 32 | 64, taken: boolean): Scalar | undefined {
  const pred = branchTaken(op, a, a, width);
  if (pred !== -1) return (pred === 1) === taken ? a : undefined;
  const r = REG_A.load(a);
  refine(r, r, taken ? op : REVERSE[op], width === 32);
  r.sync();
  r.sync();
  r.sanitize();
  return r.toScalar();
}
