/**
 * The verifier's scalar domain: what is known about a SCALAR_VALUE register, as
 * the Linux kernel's verifier tracks it in struct bpf_reg_state — known bits
 * (a tnum) plus signed and unsigned bounds for the whole 64-bit register and for
 * its 32-bit subregister. The fields keep each other honest: syncBounds() is the
 * kernel's reg_bounds_sync(), which lets each view tighten the others.
 *
 * This module holds the value itself (construction, bounds synchronisation,
 * truncation and extension, comparison for state pruning, the log form); the
 * ALU transfer functions are in scalar-alu.ts and the branch logic in
 * scalar-branch.ts, both re-exported here. The kernel sources modelled are
 * listed in docs/verifier-scalars.md; no kernel code is copied.
 *
 * Conventions: 64-bit quantities are bigints, unsigned in 0 .. 2^64-1 (umin,
 * umax, tnum fields) or signed in -2^63 .. 2^63-1 (smin, smax); 32-bit bounds are
 * numbers (u32 in 0 .. 2^32-1, s32 in -2^31 .. 2^31-1). Every function returns a
 * new plain object and never mutates its arguments.
 */
import {
  HALVES, POW2, STEP, SplitTnum, TNUM_UNKNOWN, U32_MASK, U64_MASK, hex64, join64, join64s, splitHalves, splitIntersect, splitRange,
  splitStep, tnumContains, tnumIn, tnumIsUnknown, tnumToString, type Tnum,
} from './tnum.js';

export interface Scalar {
  readonly var: Tnum;
  readonly smin: bigint;
  readonly smax: bigint;
  readonly umin: bigint;
  readonly umax: bigint;
  readonly s32min: number;
  readonly s32max: number;
  readonly u32min: number;
  readonly u32max: number;
}

export const S64_MIN = -(1n << 63n);
export const S64_MAX = (1n << 63n) - 1n;
export const U64_MAX = U64_MASK;
export const S32_MIN = -0x8000_0000;
export const S32_MAX = 0x7fff_ffff;
export const U32_MAX = 0xffff_ffff;

// ---------------------------------------------------------------- 64-bit halves
//
// Inside the transfer functions every 64-bit quantity is held as two u32 numbers
// (high and low half): plain number arithmetic, no BigInt allocation. Signed
// values use the same halves (two's complement); only comparisons differ.
// The exports of this section (ltU, ltS, SUM, add64, sub64, Reg, REG_A/B/C) are
// for scalar-alu.ts and scalar-branch.ts; they are not part of the domain's API.

/** a < b, unsigned 64-bit, from halves. */
export const ltU = (ah: number, al: number, bh: number, bl: number): boolean => ah < bh || (ah === bh && al < bl);
/** a < b, signed 64-bit, from halves. */
export const ltS = (ah: number, al: number, bh: number, bl: number): boolean =>
  (ah | 0) < (bh | 0) || (ah === bh && al < bl);

/** Result halves of the add/sub helpers below. */
export const SUM = { hi: 0, lo: 0, carry: false };

/** SUM = a + b (mod 2^64); carry = unsigned overflow. */
export function add64(ah: number, al: number, bh: number, bl: number): void {
  const l = al + bl;
  const h = ah + bh + (l >= TWO32 ? 1 : 0);
  SUM.lo = l >>> 0;
  SUM.hi = h >>> 0;
  SUM.carry = h >= TWO32;
}

/** SUM = a - b (mod 2^64); carry = unsigned borrow (a < b). */
export function sub64(ah: number, al: number, bh: number, bl: number): void {
  const l = al - bl;
  const h = ah - bh - (l < 0 ? 1 : 0);
  SUM.lo = l >>> 0;
  SUM.hi = h >>> 0;
  SUM.carry = h < 0;
}

const TWO32 = 4294967296;
const S64_MIN_B = S64_MIN;

/**
 * A mutable working copy of a Scalar, so the transfer functions can be written
 * step by step as the kernel writes them (each step narrowing some fields) and
 * turned into a new Scalar at the end. Module-internal: never escapes a call.
 */
export class Reg {
  readonly v = new SplitTnum();
  sminH = 0x8000_0000;
  sminL = 0;
  smaxH = 0x7fff_ffff;
  smaxL = 0xffff_ffff;
  uminH = 0;
  uminL = 0;
  umaxH = 0xffff_ffff;
  umaxL = 0xffff_ffff;
  s32min = S32_MIN;
  s32max = S32_MAX;
  u32min = 0;
  u32max = U32_MAX;
  /** The Scalar loaded, whose bigints toScalar() reuses for fields that did not change. */
  private orig: Scalar = UNKNOWN_SCALAR;
  private readonly ov = new SplitTnum();
  private osminH = 0;
  private osminL = 0;
  private osmaxH = 0;
  private osmaxL = 0;
  private ouminH = 0;
  private ouminL = 0;
  private oumaxH = 0;
  private oumaxL = 0;

  load(s: Scalar): this {
    this.orig = s;
    this.v.load(s.var);
    this.ov.copy(this.v);
    splitHalves(s.smin);
    this.sminH = this.osminH = HALVES.hi;
    this.sminL = this.osminL = HALVES.lo;
    splitHalves(s.smax);
    this.smaxH = this.osmaxH = HALVES.hi;
    this.smaxL = this.osmaxL = HALVES.lo;
    splitHalves(s.umin);
    this.uminH = this.ouminH = HALVES.hi;
    this.uminL = this.ouminL = HALVES.lo;
    splitHalves(s.umax);
    this.umaxH = this.oumaxH = HALVES.hi;
    this.umaxL = this.oumaxL = HALVES.lo;
    this.s32min = s.s32min;
    this.s32max = s.s32max;
    this.u32min = s.u32min;
    this.u32max = s.u32max;
    return this;
  }

  copyFrom(o: Reg): this {
    this.orig = o.orig;
    this.ov.copy(o.ov);
    this.osminH = o.osminH;
    this.osminL = o.osminL;
    this.osmaxH = o.osmaxH;
    this.osmaxL = o.osmaxL;
    this.ouminH = o.ouminH;
    this.ouminL = o.ouminL;
    this.oumaxH = o.oumaxH;
    this.oumaxL = o.oumaxL;
    this.v.copy(o.v);
    this.sminH = o.sminH;
    this.sminL = o.sminL;
    this.smaxH = o.smaxH;
    this.smaxL = o.smaxL;
    this.uminH = o.uminH;
    this.uminL = o.uminL;
    this.umaxH = o.umaxH;
    this.umaxL = o.umaxL;
    this.s32min = o.s32min;
    this.s32max = o.s32max;
    this.u32min = o.u32min;
    this.u32max = o.u32max;
    return this;
  }

  toScalar(): Scalar {
    const o = this.orig;
    const sameVar = this.v.equals(this.ov);
    return {
      var: sameVar ? o.var : this.v.toTnum(),
      smin: this.sminH === this.osminH && this.sminL === this.osminL ? o.smin : join64s(this.sminH, this.sminL),
      smax: this.smaxH === this.osmaxH && this.smaxL === this.osmaxL ? o.smax : join64s(this.smaxH, this.smaxL),
      umin: this.uminH === this.ouminH && this.uminL === this.ouminL ? o.umin : join64(this.uminH, this.uminL),
      umax: this.umaxH === this.oumaxH && this.umaxL === this.oumaxL ? o.umax : join64(this.umaxH, this.umaxL),
      s32min: this.s32min,
      s32max: this.s32max,
      u32min: this.u32min,
      u32max: this.u32max,
    };
  }

  setSmin(h: number, l: number): void {
    this.sminH = h;
    this.sminL = l;
  }

  setSmax(h: number, l: number): void {
    this.smaxH = h;
    this.smaxL = l;
  }

  setUmin(h: number, l: number): void {
    this.uminH = h;
    this.uminL = l;
  }

  setUmax(h: number, l: number): void {
    this.umaxH = h;
    this.umaxL = l;
  }

  /** __mark_reg_known: the constant hi:lo in every field. */
  markKnown(h: number, l: number): void {
    this.v.set(h, l, 0, 0);
    this.sminH = this.smaxH = this.uminH = this.umaxH = h;
    this.sminL = this.smaxL = this.uminL = this.umaxL = l;
    this.u32min = this.u32max = l;
    this.s32min = this.s32max = l | 0;
  }

  /** __mark_reg32_known: the subregister is the constant x; the upper half of var_off is kept. */
  markKnown32(x: number): void {
    const l = x >>> 0;
    this.v.vl = l;
    this.v.ml = 0;
    this.u32min = this.u32max = l;
    this.s32min = this.s32max = l | 0;
  }

  markUnbounded64(): void {
    this.sminH = 0x8000_0000;
    this.sminL = 0;
    this.smaxH = 0x7fff_ffff;
    this.smaxL = 0xffff_ffff;
    this.uminH = this.uminL = 0;
    this.umaxH = this.umaxL = 0xffff_ffff;
  }

  markUnbounded32(): void {
    this.s32min = S32_MIN;
    this.s32max = S32_MAX;
    this.u32min = 0;
    this.u32max = U32_MAX;
  }

  markUnknown(): void {
    this.v.set(0, 0, 0xffff_ffff, 0xffff_ffff);
    this.markUnbounded64();
    this.markUnbounded32();
  }

  /** __update_reg32_bounds: bounds the subregister's known bits imply. */
  updateBounds32(): void {
    const v = this.v.vl;
    const m = this.v.ml;
    // min signed: sign bit set if it may be, other unknown bits clear; max signed: the reverse.
    const smin = v | (m & 0x8000_0000);
    const smax = v | (m & 0x7fff_ffff);
    if (smin > this.s32min) this.s32min = smin;
    if (smax < this.s32max) this.s32max = smax;
    if (v > this.u32min) this.u32min = v;
    const umax = (v | m) >>> 0;
    if (umax < this.u32max) this.u32max = umax;
  }

  /** __update_reg64_bounds, with the single-value check (tnum_step). */
  updateBounds64(): void {
    const { vh, vl, mh, ml } = this.v;
    const cminH = (vh | (mh & 0x8000_0000)) >>> 0;
    if (ltS(this.sminH, this.sminL, cminH, vl)) this.setSmin(cminH, vl);
    const cmaxH = (vh | (mh & 0x7fff_ffff)) >>> 0;
    const tl = (vl | ml) >>> 0;
    if (ltS(cmaxH, tl, this.smaxH, this.smaxL)) this.setSmax(cmaxH, tl);
    if (ltU(this.uminH, this.uminL, vh, vl)) this.setUmin(vh, vl);
    const th = (vh | mh) >>> 0;
    if (ltU(th, tl, this.umaxH, this.umaxL)) this.setUmax(th, tl);
    // Does the u64 range meet the tnum in a single value? Then that is the value
    // (upstream efc11a66, in Linux 6.18.y and 6.19.y as a stable fix).
    const { uminH, uminL } = this;
    splitStep(this.v, uminH, uminL);
    const nh = STEP.hi;
    const nl = STEP.lo;
    const uminIn = ((uminL & ~ml) >>> 0) === vl && ((uminH & ~mh) >>> 0) === vh;
    if (uminIn) {
      if (ltU(this.umaxH, this.umaxL, nh, nl)) this.markKnown(uminH, uminL);
    } else if (nh === th && nl === tl) {
      this.markKnown(th, tl);
    } else if (!ltU(this.umaxH, this.umaxL, nh, nl)) {
      splitStep(this.v, nh, nl);
      if (ltU(this.umaxH, this.umaxL, STEP.hi, STEP.lo)) this.markKnown(nh, nl);
    }
  }

  /** __update_reg_bounds. */
  updateBounds(): void {
    this.updateBounds32();
    this.updateBounds64();
  }

  /** __reg32_deduce_bounds: subregister bounds from the 64-bit ones, and s32 <-> u32. */
  deduce32(): void {
    const { uminH, uminL, umaxH, umaxL, sminH, sminL, smaxH, smaxL } = this;
    // Upper halves of the u64 range equal: the low halves form a range.
    if (uminH === umaxH) {
      if (uminL > this.u32min) this.u32min = uminL;
      if (umaxL < this.u32max) this.u32max = umaxL;
      if ((uminL | 0) <= (umaxL | 0)) {
        if ((uminL | 0) > this.s32min) this.s32min = uminL | 0;
        if ((umaxL | 0) < this.s32max) this.s32max = umaxL | 0;
      }
    }
    // Same for the s64 range.
    if (sminH === smaxH) {
      if (sminL <= smaxL) {
        if (sminL > this.u32min) this.u32min = sminL;
        if (smaxL < this.u32max) this.u32max = smaxL;
      }
      if ((sminL | 0) <= (smaxL | 0)) {
        if ((sminL | 0) > this.s32min) this.s32min = sminL | 0;
        if ((smaxL | 0) < this.s32max) this.s32max = smaxL | 0;
      }
    }
    // Upper halves consecutive while the low halves go from negative to
    // non-negative: the low halves still form an s32 range.
    if (((uminH + 1) >>> 0) === umaxH && (uminL | 0) < 0 && (umaxL | 0) >= 0) {
      if ((uminL | 0) > this.s32min) this.s32min = uminL | 0;
      if ((umaxL | 0) < this.s32max) this.s32max = umaxL | 0;
    }
    if (((sminH + 1) >>> 0) === smaxH && (sminL | 0) < 0 && (smaxL | 0) >= 0) {
      if ((sminL | 0) > this.s32min) this.s32min = sminL | 0;
      if ((smaxL | 0) < this.s32max) this.s32max = smaxL | 0;
    }
    // u32 range not crossing the s32 sign boundary is also an s32 range.
    if ((this.u32min | 0) <= (this.u32max | 0)) {
      if ((this.u32min | 0) > this.s32min) this.s32min = this.u32min | 0;
      if ((this.u32max | 0) < this.s32max) this.s32max = this.u32max | 0;
    }
    // And the reverse.
    const uS32min = this.s32min >>> 0;
    const uS32max = this.s32max >>> 0;
    if (uS32min <= uS32max) {
      if (uS32min > this.u32min) this.u32min = uS32min;
      if (uS32max < this.u32max) this.u32max = uS32max;
    } else if (this.u32max < uS32min) {
      // The s32 range crosses the sign boundary and the u32 range meets only its
      // non-negative part (the 32-bit twin of deduce64's case; Linux 6.18.y has it
      // as a stable backport, mainline since 7.0).
      this.s32min = this.u32min | 0;
      if (uS32max < this.u32max) this.u32max = uS32max;
    } else if (uS32max < this.u32min) {
      // ... or only its negative part.
      this.s32max = this.u32max | 0;
      if (uS32min > this.u32min) this.u32min = uS32min;
    }
  }

  /** __reg64_deduce_bounds: s64 <-> u64, including the ranges that cross the sign boundary. */
  deduce64(): void {
    // u64 range not crossing the s64 sign boundary is also an s64 range.
    if (!ltS(this.umaxH, this.umaxL, this.uminH, this.uminL)) {
      if (ltS(this.sminH, this.sminL, this.uminH, this.uminL)) this.setSmin(this.uminH, this.uminL);
      if (ltS(this.umaxH, this.umaxL, this.smaxH, this.smaxL)) this.setSmax(this.umaxH, this.umaxL);
    }
    if (!ltU(this.smaxH, this.smaxL, this.sminH, this.sminL)) {
      if (ltU(this.uminH, this.uminL, this.sminH, this.sminL)) this.setUmin(this.sminH, this.sminL);
      if (ltU(this.smaxH, this.smaxL, this.umaxH, this.umaxL)) this.setUmax(this.smaxH, this.smaxL);
    } else if (ltU(this.umaxH, this.umaxL, this.sminH, this.sminL)) {
      // The u64 range meets only the non-negative part of the s64 range.
      this.setSmin(this.uminH, this.uminL);
      if (ltU(this.smaxH, this.smaxL, this.umaxH, this.umaxL)) this.setUmax(this.smaxH, this.smaxL);
    } else if (ltU(this.smaxH, this.smaxL, this.uminH, this.uminL)) {
      // The u64 range meets only the negative part of the s64 range.
      this.setSmax(this.umaxH, this.umaxL);
      if (ltU(this.uminH, this.uminL, this.sminH, this.sminL)) this.setUmin(this.sminH, this.sminL);
    }
  }

  /** __reg_deduce_mixed_bounds: tighten the 64-bit bounds from the 32-bit ones. */
  deduceMixed(): void {
    // Splicing the u32 bounds into the low halves of the 64-bit bounds is an
    // improvement exactly when the low half is below u32min (above u32max).
    const { u32min, u32max } = this;
    if (u32min > this.uminL) this.uminL = u32min;
    if (u32max < this.umaxL) this.umaxL = u32max;
    if (u32min > this.sminL) this.sminL = u32min;
    if (u32max < this.smaxL) this.smaxL = u32max;
    // After a sign-extending load: a value in [(s64)S32_MIN, S32_MAX] whose low half
    // is non-negative cannot have all-ones upper bits.
    if (this.s32min >= 0 && !ltS(this.sminH, this.sminL, 0xffff_ffff, 0x8000_0000) &&
        !ltS(0, 0x7fff_ffff, this.smaxH, this.smaxL)) {
      // (s32 values sign-extended: only a dead branch can have s32max < 0 here.)
      const minH = this.s32min < 0 ? 0xffff_ffff : 0;
      const maxH = this.s32max < 0 ? 0xffff_ffff : 0;
      const minL = this.s32min >>> 0;
      const maxL = this.s32max >>> 0;
      this.setSmin(minH, minL);
      this.setUmin(minH, minL);
      this.setSmax(maxH, maxL);
      this.setUmax(maxH, maxL);
      splitIntersect(this.v, this.v, splitRange(TMP, minH, minL, maxH, maxL));
    }
  }

  deduce(): void {
    this.deduce32();
    this.deduce64();
    this.deduceMixed();
  }

  /** __reg_bound_offset: known bits from the unsigned ranges. */
  boundOffset(): void {
    const v = this.v;
    splitIntersect(v, v, splitRange(TMP, this.uminH, this.uminL, this.umaxH, this.umaxL));
    // The subregister part: intersect with tnum_range(u32min, u32max).
    const chi = (this.u32min ^ this.u32max) >>> 0;
    const delta = chi === 0 ? 0 : (0xffff_ffff >>> Math.clz32(chi));
    const rv = (this.u32min & ~delta) >>> 0;
    const mu = (v.ml & delta) >>> 0;
    v.vl = ((v.vl | rv) & ~mu) >>> 0;
    v.ml = mu;
  }

  private isUnknownUnbounded(): boolean {
    return this.v.isUnknown() && this.uminH === 0 && this.uminL === 0 && this.umaxH === 0xffff_ffff &&
      this.umaxL === 0xffff_ffff && this.sminH === 0x8000_0000 && this.sminL === 0 && this.smaxH === 0x7fff_ffff &&
      this.smaxL === 0xffff_ffff && this.u32min === 0 && this.u32max === U32_MAX && this.s32min === S32_MIN &&
      this.s32max === S32_MAX;
  }

  /**
   * reg_bounds_sync. The kernel deduces three times; a pass that changes nothing
   * would change nothing again, so the later passes are skipped then.
   */
  sync(): void {
    if (this.isUnknownUnbounded()) return;
    this.updateBounds();
    for (let i = 0; i < 3; i++) {
      const { sminH, sminL, smaxH, smaxL, uminH, uminL, umaxH, umaxL, s32min, s32max, u32min, u32max } = this;
      const { vh, vl, mh, ml } = this.v;
      this.deduce();
      if (sminH === this.sminH && sminL === this.sminL && smaxH === this.smaxH && smaxL === this.smaxL &&
          uminH === this.uminH && uminL === this.uminL && umaxH === this.umaxH && umaxL === this.umaxL &&
          s32min === this.s32min && s32max === this.s32max && u32min === this.u32min && u32max === this.u32max &&
          vh === this.v.vh && vl === this.v.vl && mh === this.v.mh && ml === this.v.ml) break;
    }
    this.boundOffset();
    this.updateBounds();
  }

  /** zext_32_to_64 (the subregister's tnum, then __reg_assign_32_into_64). */
  zext32(): void {
    this.v.vh = 0;
    this.v.mh = 0;
    this.setUmin(0, this.u32min);
    this.setUmax(0, this.u32max);
    if (this.s32min >= 0 && this.s32max >= 0) {
      this.setSmin(0, this.s32min);
      this.setSmax(0, this.s32max);
    } else {
      this.setSmin(0, 0);
      this.setSmax(0, U32_MAX);
    }
  }

  /** coerce_reg_to_size: keep the low `size` bytes (size 1, 2 or 4), then sync. */
  truncate(size: number): void {
    const mask = size >= 4 ? 0xffff_ffff : POW2[size * 8]! - 1;
    const keep = ~mask >>> 0; // bits above the size within the low half
    this.v.vh = this.v.mh = 0;
    this.v.vl = (this.v.vl & mask) >>> 0;
    this.v.ml = (this.v.ml & mask) >>> 0;
    if (this.uminH === this.umaxH && ((this.uminL & keep) >>> 0) === ((this.umaxL & keep) >>> 0)) {
      this.setUmin(0, (this.uminL & mask) >>> 0);
      this.setUmax(0, (this.umaxL & mask) >>> 0);
    } else {
      this.setUmin(0, 0);
      this.setUmax(0, mask);
    }
    this.setSmin(0, this.uminL);
    this.setSmax(0, this.umaxL);
    if (size < 4) this.markUnbounded32();
    this.sync();
  }

  /** The kernel's reg_bounds_sanity_check: do the fields describe a non-empty set consistently? */
  isSane(): boolean {
    if (ltU(this.umaxH, this.umaxL, this.uminH, this.uminL) || ltS(this.smaxH, this.smaxL, this.sminH, this.sminL) ||
        this.u32min > this.u32max || this.s32min > this.s32max) return false;
    const v = this.v;
    if (v.ml === 0 && v.mh === 0) {
      if (this.uminH !== v.vh || this.uminL !== v.vl || this.umaxH !== v.vh || this.umaxL !== v.vl ||
          this.sminH !== v.vh || this.sminL !== v.vl || this.smaxH !== v.vh || this.smaxL !== v.vl) return false;
    }
    if (v.ml === 0) {
      if (this.u32min !== v.vl || this.u32max !== v.vl || this.s32min !== (v.vl | 0) || this.s32max !== (v.vl | 0)) {
        return false;
      }
    }
    return true;
  }

  /** What the kernel does when the sanity check fails: forget the bounds, keep var_off. */
  sanitize(): void {
    if (!this.isSane()) {
      this.markUnbounded64();
      this.markUnbounded32();
    }
  }
}

const TMP = new SplitTnum();

const UNKNOWN_SCALAR: Scalar = Object.freeze({
  var: TNUM_UNKNOWN, smin: S64_MIN_B, smax: S64_MAX, umin: 0n, umax: U64_MAX,
  s32min: S32_MIN, s32max: S32_MAX, u32min: 0, u32max: U32_MAX,
});

/** Working registers for the functions of this module and its two siblings (never reentered). */
export const REG_A = new Reg();
export const REG_B = new Reg();
export const REG_C = new Reg();

// ---------------------------------------------------------------- construction

const UNKNOWN = UNKNOWN_SCALAR;

/** A scalar about which nothing is known (__mark_reg_unknown). */
export function unknownScalar(): Scalar {
  return UNKNOWN;
}

/** The constant v, taken mod 2^64 (__mark_reg_known). */
export function constScalar(v: bigint): Scalar {
  const u = v & U64_MASK;
  const s = BigInt.asIntN(64, u);
  const lo = Number(u & U32_MASK);
  return { var: { value: u, mask: 0n }, smin: s, smax: s, umin: u, umax: u, s32min: lo | 0, s32max: lo | 0, u32min: lo, u32max: lo };
}

/** Is the whole 64-bit value known? (tnum_is_const on var_off, as the kernel tests it.) */
export function isConst(s: Scalar): boolean {
  return s.var.mask === 0n;
}

/** The known value (u64) of a constant scalar; throws on a non-constant. */
export function constValue(s: Scalar): bigint {
  if (s.var.mask !== 0n) throw new RangeError('constValue of a scalar that is not a constant');
  return s.var.value;
}

/** Is the 32-bit subregister known? */
export function isConst32(s: Scalar): boolean {
  return (s.var.mask & U32_MASK) === 0n;
}

/** reg_bounds_sync: learn bounds from var_off, deduce between the four ranges, learn var_off from the bounds. */
export function syncBounds(s: Scalar): Scalar {
  const r = REG_A.load(s);
  r.sync();
  return r.toScalar();
}

/**
 * A scalar from a description, synced; missing fields are unbounded. Handy for
 * building a range such as { umax: 255n }.
 */
export function makeScalar(fields: Partial<Scalar>): Scalar {
  return syncBounds({ ...UNKNOWN, ...fields });
}

// ---------------------------------------------------------------- size changes

/** zext_32_to_64 then reg_bounds_sync: the upper 32 bits become known zero, as after every ALU32 op. */
export function zext32(s: Scalar): Scalar {
  const r = REG_A.load(s);
  r.zext32();
  r.sync();
  return r.toScalar();
}

/** coerce_reg_to_size: keep the low sizeBytes bytes (the value a narrower load or store sees). */
export function truncate(s: Scalar, sizeBytes: 1 | 2 | 4 | 8): Scalar {
  if (sizeBytes === 8) return s;
  const r = REG_A.load(s);
  r.truncate(sizeBytes);
  return r.toScalar();
}

/** get_reg_width: the bits the largest unsigned value needs (fls64 of umax). */
export const scalarWidth = (s: Scalar): number => (s.umax === 0n ? 0 : s.umax.toString(2).length);

/** The low `bits` (8, 16 or 32) bits of x sign-extended, as an int32 number. */
const sext = (x: number, bits: number): number => (bits === 32 ? x | 0 : (x << (32 - bits)) >> (32 - bits));
/** The high half of an int32 sign-extended to 64 bits. */
const signHi = (x: number): number => (x < 0 ? 0xffff_ffff : 0);

/** coerce_reg_to_size_sx: sign-extend the low `size` bytes to 64 bits (no sync, as in the kernel). */
export function signExtend64(r: Reg, size: 1 | 2 | 4): void {
  const bits = size * 8;
  const v = r.v;
  if (v.isConst()) {
    const x = sext(v.vl, bits);
    r.markKnown(signHi(x), x >>> 0);
    return;
  }
  // The bits above `bits` are the same at both ends of the s64 range?
  const sameTop = r.smaxH === r.sminH && (bits === 32 || (r.smaxL >>> bits) === (r.sminL >>> bits));
  if (sameTop) {
    const a = sext(r.smaxL, bits);
    const b = sext(r.sminL, bits);
    const hi = Math.max(a, b);
    const lo = Math.min(a, b);
    if ((hi >= 0) === (lo >= 0)) {
      r.s32min = lo;
      r.s32max = hi;
      r.setSmin(signHi(lo), lo >>> 0);
      r.setSmax(signHi(hi), hi >>> 0);
      r.setUmin(signHi(lo), lo >>> 0);
      r.setUmax(signHi(hi), hi >>> 0);
      r.u32min = lo >>> 0;
      r.u32max = hi >>> 0;
      splitRange(v, signHi(lo), lo >>> 0, signHi(hi), hi >>> 0);
      return;
    }
  }
  const half = 2 ** (bits - 1);
  if (r.s32min >= -half && r.s32max < half) {
    // The subregister already lies in the narrow type's range, so the extension changes no value: the
    // running kernel (6.18.y) then gives the s32 range as the s64 one and keeps the 32-bit bounds
    // (observed: (s8) of s32 [-3, 5] is [-3, 5], and every (s32) keeps its s32 range).
    r.setSmin(signHi(r.s32min), r.s32min >>> 0);
    r.setSmax(signHi(r.s32max), r.s32max >>> 0);
    r.setUmin(0, 0);
    r.setUmax(0xffff_ffff, 0xffff_ffff);
    v.set(0, 0, 0xffff_ffff, 0xffff_ffff);
    return;
  }
  // set_sext64_default_val
  r.s32min = -half;
  r.s32max = half - 1;
  r.setSmin(signHi(-half), -half >>> 0);
  r.setSmax(0, half - 1);
  r.setUmin(0, 0);
  r.setUmax(0xffff_ffff, 0xffff_ffff);
  r.u32min = 0;
  r.u32max = U32_MAX;
  v.set(0, 0, 0xffff_ffff, 0xffff_ffff);
}

/** coerce_subreg_to_size_sx: sign-extend the low 8 or 16 bits into the 32-bit subregister. */
function signExtend32(r: Reg, size: 1 | 2): void {
  const bits = size * 8;
  const v = r.v;
  if (v.isConst()) {
    // The kernel extends var_off's value to 64 bits and sets only the 32-bit fields; zext follows.
    const x = sext(v.vl, bits);
    v.set(signHi(x), x >>> 0, 0, 0);
    r.s32min = r.s32max = x;
    r.u32min = r.u32max = x >>> 0;
    return;
  }
  if ((r.s32max >>> bits) === (r.s32min >>> bits)) {
    const a = sext(r.s32max, bits);
    const b = sext(r.s32min, bits);
    const hi = Math.max(a, b);
    const lo = Math.min(a, b);
    if ((lo >= 0) === (hi >= 0)) {
      r.s32min = lo;
      r.s32max = hi;
      r.u32min = lo >>> 0;
      r.u32max = hi >>> 0;
      splitRange(v, signHi(lo), lo >>> 0, signHi(hi), hi >>> 0);
      v.vh = v.mh = 0;
      return;
    }
  }
  // set_sext32_default_val
  const half = 2 ** (bits - 1);
  r.s32min = -half;
  r.s32max = half - 1;
  r.u32min = 0;
  r.u32max = U32_MAX;
  v.set(0, 0, 0, 0xffff_ffff);
}

/**
 * Sign extension as BPF_MOVSX does it: `width` 64 is `r = (sN) r` (fromBits 8,
 * 16 or 32; synced, as the running kernel's log shows), `width` 32 is `w = (sN) w`
 * (fromBits 8 or 16; zero-extended to 64 bits and synced).
 */
export function signExtend(s: Scalar, fromBits: 8 | 16 | 32, width: 32 | 64): Scalar {
  const r = REG_A.load(s);
  if (width === 64) {
    signExtend64(r, (fromBits / 8) as 1 | 2 | 4);
    r.sync();
    return r.toScalar();
  }
  // w = (s32) w is a plain 32-bit move.
  if (fromBits !== 32) signExtend32(r, (fromBits / 8) as 1 | 2);
  r.zext32();
  r.sync();
  return r.toScalar();
}

const LOADS = new Map<number, Scalar>();

/**
 * What a load of sizeBytes of unknown memory gives (check_mem_access for a
 * scalar read): unknown, then truncated (zero-extending load) or sign-extended
 * (BPF_MEMSX load, sizes 1, 2 and 4).
 */
export function scalarFromLoad(sizeBytes: 1 | 2 | 4 | 8, signed: boolean): Scalar {
  if (sizeBytes === 8) return UNKNOWN;
  const key = sizeBytes * 2 + (signed ? 1 : 0);
  let s = LOADS.get(key);
  if (!s) {
    const r = REG_A.load(UNKNOWN);
    if (signed) signExtend64(r, sizeBytes);
    else r.truncate(sizeBytes);
    s = Object.freeze(r.toScalar());
    LOADS.set(key, s);
  }
  return s;
}

// ---------------------------------------------------------------- comparison

export function scalarEquals(a: Scalar, b: Scalar): boolean {
  return a.var.value === b.var.value && a.var.mask === b.var.mask &&
    a.smin === b.smin && a.smax === b.smax && a.umin === b.umin && a.umax === b.umax &&
    a.s32min === b.s32min && a.s32max === b.s32max && a.u32min === b.u32min && a.u32max === b.u32max;
}

/**
 * Is every value `cur` may hold also allowed by `old`? The kernel's range_within()
 * and tnum_in(), which regsafe() uses to prune a state against an explored one.
 */
export function scalarWithin(old: Scalar, cur: Scalar): boolean {
  return old.umin <= cur.umin && old.umax >= cur.umax &&
    old.smin <= cur.smin && old.smax >= cur.smax &&
    old.u32min <= cur.u32min && old.u32max >= cur.u32max &&
    old.s32min <= cur.s32min && old.s32max >= cur.s32max &&
    tnumIn(old.var, cur.var);
}

/**
 * Can the scalar hold the concrete value v (taken mod 2^64)? Every field must
 * admit it. (For tests and for checking facts; the verifier itself never needs it.)
 */
export function scalarContains(s: Scalar, v: bigint): boolean {
  const u = v & U64_MASK;
  const sv = BigInt.asIntN(64, u);
  const lo = Number(u & U32_MASK);
  return tnumContains(s.var, u) && u >= s.umin && u <= s.umax && sv >= s.smin && sv <= s.smax &&
    lo >= s.u32min && lo <= s.u32max && (lo | 0) >= s.s32min && (lo | 0) <= s.s32max;
}

// ---------------------------------------------------------------- log form

/** The kernel log prints small numbers in decimal, others in hex (log.c is_unum_decimal). */
function unum(v: bigint): string {
  return v <= 0xffffn ? v.toString() : hex64(v);
}

/** Signed: decimal within s16, else the u64 bit pattern in hex (is_snum_decimal). */
function snum(v: bigint): string {
  const s = BigInt.asIntN(64, v);
  return s >= -0x8000n && s <= 0x7fffn ? s.toString() : hex64(v);
}

/**
 * The scalar as the kernel's verifier log prints a register holding it
 * (print_reg_state / print_scalar_ranges in kernel/bpf/log.c), without the
 * register-level extras (precision mark, id): a constant is its value, anything
 * else is "scalar(...)" listing only the bounds that are not the type's limits,
 * equal mins (or maxes) joined as "smin=umin=5", then var_off unless unknown.
 */
export function scalarToString(s: Scalar): string {
  if (s.var.mask === 0n) return snum(s.var.value);
  // name, value (as the u64 the kernel holds), omitted?
  const s32 = (v: number): bigint => {
    const b = BigInt(v);
    return b >= -0x8000n && b <= 0x7fffn ? b & U64_MASK : BigInt(v >>> 0);
  };
  const names = ['smin', 'smax', 'umin', 'umax', 'smin32', 'smax32', 'umin32', 'umax32'];
  const vals = [
    s.smin & U64_MASK, s.smax & U64_MASK, s.umin, s.umax, s32(s.s32min), s32(s.s32max), BigInt(s.u32min), BigInt(s.u32max),
  ];
  const omit = [
    s.smin === S64_MIN, s.smax === S64_MAX, s.umin === 0n, s.umax === U64_MAX,
    s.s32min === S32_MIN, s.s32max === S32_MAX, s.u32min === 0, s.u32max === U32_MAX,
  ];
  const isNeg = (i: number): boolean => names[i]![0] === 's' && BigInt.asIntN(64, vals[i]!) < 0n;
  const parts: string[] = [];
  for (let i = 0; i < 8; i++) {
    if (omit[i]) continue;
    let text = `${names[i]}=`;
    const neg = isNeg(i);
    for (let j = i + 2; j < 8; j += 2) {
      if (omit[j] || vals[j] !== vals[i] || isNeg(j) !== neg) continue;
      omit[j] = true;
      text += `${names[j]}=`;
    }
    text += names[i]![0] === 's' ? snum(vals[i]!) : unum(vals[i]!);
    parts.push(text);
  }
  if (!tnumIsUnknown(s.var)) parts.push(`var_off=${tnumToString(s.var)}`);
  return `scalar(${parts.join(',')})`;
}

export { scalarAlu, scalarAluFork, scalarEndian, type AluOp } from './scalar-alu.js';
export {
  branchTaken, refineBranch, refineBranchDetail, refineBranchSelf, type BranchEdge, type CmpOp,
} from './scalar-branch.js';
