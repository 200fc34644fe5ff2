/**
 * Tristate numbers ("tnums"): what is known about the bits of a 64-bit value.
 *
 * A tnum is a pair (value, mask) of u64s: a bit set in `mask` is unknown, a bit
 * clear in `mask` is known and equal to that bit of `value`; `value & mask` is
 * always 0. The set of concrete values a tnum stands for is
 * { x : x & ~mask == value }.
 *
 * The operations follow the Linux kernel's verifier (kernel/bpf/tnum.c and
 * include/linux/tnum.h; see docs/verifier-scalars.md): every operation is sound,
 * i.e. op(x, y) ∈ tnumOp(a, b) for every x ∈ a and y ∈ b. Written for this
 * project from the kernel's description of each operation; no kernel code copied.
 *
 * All quantities are bigints in 0 .. 2^64-1. Shift amounts are plain numbers.
 */

export interface Tnum {
  readonly value: bigint;
  readonly mask: bigint;
}

/** 2^64 - 1: every bit of a u64. */
export const U64_MASK = 0xffff_ffff_ffff_ffffn;
/** 2^32 - 1: the low 32 bits (the subregister). */
export const U32_MASK = 0xffff_ffffn;
const HIGH32_MASK = U64_MASK ^ U32_MASK;

const tnum = (value: bigint, mask: bigint): Tnum => ({ value, mask });

/** Nothing known: every bit unknown. */
export const TNUM_UNKNOWN: Tnum = Object.freeze(tnum(0n, U64_MASK));
/** The constant 0. */
export const TNUM_ZERO: Tnum = Object.freeze(tnum(0n, 0n));

/** A fully known value (taken mod 2^64). */
export function tnumConst(v: bigint): Tnum {
  return tnum(v & U64_MASK, 0n);
}

/** Index of the highest set bit plus one (0 for 0), as the kernel's fls64. */
function fls64(x: bigint): number {
  if (x === 0n) return 0;
  const hi = Number(BigInt.asUintN(32, x >> 32n));
  if (hi !== 0) return 64 - Math.clz32(hi);
  return 32 - Math.clz32(Number(BigInt.asUintN(32, x)));
}

/**
 * A tnum containing every value in [min, max] (unsigned), found from the bits the
 * two ends share: every bit below the highest differing bit becomes unknown. It
 * may hold values outside the range (tnumRange(0, 2) also holds 3).
 */
export function tnumRange(min: bigint, max: bigint): Tnum {
  const bits = fls64((min ^ max) & U64_MASK);
  if (bits > 63) return TNUM_UNKNOWN;
  const delta = (1n << BigInt(bits)) - 1n;
  return tnum(min & ~delta & U64_MASK, delta);
}

export function tnumLshift(a: Tnum, shift: number): Tnum {
  const s = BigInt(shift);
  return tnum((a.value << s) & U64_MASK, (a.mask << s) & U64_MASK);
}

export function tnumRshift(a: Tnum, shift: number): Tnum {
  const s = BigInt(shift);
  return tnum(a.value >> s, a.mask >> s);
}

/**
 * Arithmetic right shift of the 32- or 64-bit quantity. Shifting the mask
 * arithmetically spreads an unknown sign bit over the bits shifted in, and a
 * known sign bit of the value is copied as a known bit. For 32 bits only the
 * subregister is shifted and the result is zero-extended, as the kernel does.
 */
export function tnumArshift(a: Tnum, shift: number, insnBits: 32 | 64): Tnum {
  const s = BigInt(shift);
  if (insnBits === 32) {
    const v = BigInt.asIntN(32, a.value) >> s;
    const m = BigInt.asIntN(32, a.mask) >> s;
    return tnum(v & U32_MASK, m & U32_MASK);
  }
  return tnum((BigInt.asIntN(64, a.value) >> s) & U64_MASK, (BigInt.asIntN(64, a.mask) >> s) & U64_MASK);
}

/**
 * Addition: the carries that can differ between the smallest (masks all 0) and
 * largest (masks all 1) sums mark the unknown bits, with the operands' own
 * unknown bits.
 */
export function tnumAdd(a: Tnum, b: Tnum): Tnum {
  const sm = a.mask + b.mask;
  const sv = a.value + b.value;
  const chi = (sm + sv) ^ sv;
  const mu = (chi | a.mask | b.mask) & U64_MASK;
  return tnum(sv & ~mu & U64_MASK, mu);
}

/** Subtraction: the borrows that can differ between the extreme differences are unknown. */
export function tnumSub(a: Tnum, b: Tnum): Tnum {
  const dv = a.value - b.value;
  const alpha = dv + a.mask;
  const beta = dv - b.mask;
  const mu = ((alpha ^ beta) | a.mask | b.mask) & U64_MASK;
  return tnum(dv & ~mu & U64_MASK, mu);
}

/** Two's complement negation, as 0 - a. */
export function tnumNeg(a: Tnum): Tnum {
  return tnumSub(TNUM_ZERO, a);
}

export function tnumAnd(a: Tnum, b: Tnum): Tnum {
  const alpha = a.value | a.mask;
  const beta = b.value | b.mask;
  const v = a.value & b.value;
  return tnum(v, alpha & beta & ~v);
}

export function tnumOr(a: Tnum, b: Tnum): Tnum {
  const v = a.value | b.value;
  const mu = a.mask | b.mask;
  return tnum(v, mu & ~v);
}

export function tnumXor(a: Tnum, b: Tnum): Tnum {
  const v = a.value ^ b.value;
  const mu = a.mask | b.mask;
  return tnum(v & ~mu, mu);
}

/**
 * The smallest tnum holding both a's and b's values: unknown wherever either is
 * unknown or where their known bits disagree.
 */
export function tnumUnion(a: Tnum, b: Tnum): Tnum {
  const v = a.value & b.value;
  const mu = (a.value ^ b.value) | a.mask | b.mask;
  return tnum(v & ~mu, mu);
}

/**
 * Long multiplication over a's bits, low to high: a known 1 adds the (shifted) b
 * to the accumulator, an unknown bit takes the union of adding and not adding it,
 * a known 0 adds nothing (the kernel's current tnum_mul).
 */
export function tnumMul(a: Tnum, b: Tnum): Tnum {
  let acc = TNUM_ZERO;
  let av = a.value;
  let am = a.mask;
  let bv = b.value;
  let bm = b.mask;
  while (av !== 0n || am !== 0n) {
    if ((av & 1n) !== 0n) {
      acc = tnumAdd(acc, tnum(bv, bm));
    } else if ((am & 1n) !== 0n) {
      acc = tnumUnion(acc, tnumAdd(acc, tnum(bv, bm)));
    }
    av >>= 1n;
    am >>= 1n;
    bv = (bv << 1n) & U64_MASK;
    bm = (bm << 1n) & U64_MASK;
  }
  return acc;
}

/**
 * Values in both a and b. Where a and b disagree on a known bit (the sets are
 * disjoint) the result has that bit known 1, as in the kernel; callers only
 * intersect tnums known to share values.
 */
export function tnumIntersect(a: Tnum, b: Tnum): Tnum {
  const v = a.value | b.value;
  const mu = a.mask & b.mask;
  return tnum(v & ~mu, mu);
}

/** Can a and b hold a common value? (They agree on every bit both know.) */
export function tnumOverlap(a: Tnum, b: Tnum): boolean {
  const known = ~(a.mask | b.mask) & U64_MASK;
  return (a.value & known) === (b.value & known);
}

/**
 * The smallest member of t greater than z, for t.value <= z < tmax (tmax = the
 * largest member); z >= tmax gives tmax and z < t.value gives t.value, as the
 * kernel's tnum_step (which the bounds code uses to notice a tnum meeting a range
 * in a single value).
 */
export function tnumStep(t: Tnum, z: bigint): bigint {
  const tmax = t.value | t.mask;
  if (z >= tmax) return tmax;
  if (z < t.value) return t.value;
  // Smallest member >= y = z + 1 (one exists: tmax > z).
  const y = z + 1n;
  const x0 = t.value | (y & t.mask); // y with t's known bits forced
  const diff = x0 ^ y; // only known bits can differ
  if (diff === 0n) return y;
  const p = BigInt(fls64(diff) - 1); // highest differing bit
  const below = (1n << p) - 1n;
  if (((x0 >> p) & 1n) === 1n) {
    // Already above y at bit p: keep the bits down to p, the lowest member pattern below.
    return (x0 & ~below & U64_MASK) | (t.value & below);
  }
  // Below y at bit p (a known 0 where y has 1): raise the lowest unknown bit above p
  // that is 0, clear the unknown bits under it.
  const freeAbove = t.mask & ~x0 & ~((below << 1n) | 1n) & U64_MASK;
  const q = freeAbove & -freeAbove; // lowest such bit
  const underQ = q - 1n;
  return (x0 & ~underQ & U64_MASK) | q | (t.value & underQ);
}

/** Keep the lowest sizeBytes bytes, clear the rest (truncation to a smaller size). */
export function tnumCast(a: Tnum, sizeBytes: number): Tnum {
  if (sizeBytes >= 8) return tnum(a.value & U64_MASK, a.mask & U64_MASK);
  const m = (1n << BigInt(sizeBytes * 8)) - 1n;
  return tnum(a.value & m, a.mask & m);
}

/** As the kernel's tnum_strn prints it: `(0x0; 0xff)`. */
export const tnumText = (a: Tnum): string => `(0x${a.value.toString(16)}; 0x${a.mask.toString(16)})`;

export function tnumIsConst(a: Tnum): boolean {
  return a.mask === 0n;
}

export function tnumIsUnknown(a: Tnum): boolean {
  return a.mask === U64_MASK;
}

export function tnumEqualsConst(a: Tnum, v: bigint): boolean {
  return a.mask === 0n && a.value === (v & U64_MASK);
}

/** Is every value of `inner` also a value of `outer`? */
export function tnumIn(outer: Tnum, inner: Tnum): boolean {
  if ((inner.mask & ~outer.mask) !== 0n) return false;
  return (inner.value & ~outer.mask) === outer.value;
}

/** Is every value a multiple of `size` (a power of two; 0 means "no requirement")? */
export function tnumIsAligned(a: Tnum, size: number): boolean {
  if (size === 0) return true;
  return ((a.value | a.mask) & BigInt(size - 1)) === 0n;
}

/** Does the tnum hold the concrete value v (taken mod 2^64)? */
export function tnumContains(a: Tnum, v: bigint): boolean {
  return ((v & U64_MASK) & ~a.mask) === a.value;
}

/** The low 32 bits (the subregister), zero-extended. */
export function tnumSubreg(a: Tnum): Tnum {
  return tnum(a.value & U32_MASK, a.mask & U32_MASK);
}

/** The tnum with its low 32 bits known zero. */
export function tnumClearSubreg(a: Tnum): Tnum {
  return tnum(a.value & HIGH32_MASK, a.mask & HIGH32_MASK);
}

/** The high 32 bits of `a` with the low 32 bits of `sub`. */
export function tnumWithSubreg(a: Tnum, sub: Tnum): Tnum {
  return tnumOr(tnumClearSubreg(a), tnumSubreg(sub));
}

/** The high 32 bits of `a` with the low 32 bits known to be `v` (taken mod 2^32). */
export function tnumConstSubreg(a: Tnum, v: number): Tnum {
  return tnumWithSubreg(a, tnumConst(BigInt(v >>> 0)));
}

export function tnumSubregIsConst(a: Tnum): boolean {
  return (a.mask & U32_MASK) === 0n;
}

/** Reverse the order of the lowest `bytes` bytes of x; higher bytes are dropped. */
function swapBytes(x: bigint, bytes: number): bigint {
  let out = 0n;
  for (let i = 0; i < bytes; i++) {
    out = (out << 8n) | ((x >> BigInt(8 * i)) & 0xffn);
  }
  return out;
}

/** Byte swap of the low 16 bits (the rest cleared): each bit keeps its known/unknown state. */
export function tnumBswap16(a: Tnum): Tnum {
  return tnum(swapBytes(a.value, 2), swapBytes(a.mask, 2));
}

/** Byte swap of the low 32 bits (the rest cleared). */
export function tnumBswap32(a: Tnum): Tnum {
  return tnum(swapBytes(a.value, 4), swapBytes(a.mask, 4));
}

/** Byte swap of all 64 bits. */
export function tnumBswap64(a: Tnum): Tnum {
  return tnum(swapBytes(a.value, 8), swapBytes(a.mask, 8));
}

/** A u64 as the kernel's printf("%#llx") prints it (the kernel prints 0 as 0x0). */
export function hex64(v: bigint): string {
  return `0x${(v & U64_MASK).toString(16)}`;
}

/** The kernel log's form of a tnum: "(0x0; 0xff)" (value; mask). */
export function tnumToString(a: Tnum): string {
  return `(${hex64(a.value)}; ${hex64(a.mask)})`;
}

// ---------------------------------------------------------------- split form
//
// The scalar domain's hot paths work on tnums held as four u32 numbers (the low
// and high halves of value and mask) so that they allocate nothing and avoid
// BigInt arithmetic. The functions below are the same operations as above,
// written for that form: each writes its result into `out` (which may be one of
// the inputs). tnum.test.ts checks them against the bigint versions.

/** A tnum as u32 halves: value = vh:vl, mask = mh:ml. Mutable working storage. */
export class SplitTnum {
  vl = 0;
  vh = 0;
  ml = 0;
  mh = 0;

  set(vh: number, vl: number, mh: number, ml: number): this {
    this.vh = vh;
    this.vl = vl;
    this.mh = mh;
    this.ml = ml;
    return this;
  }

  copy(o: SplitTnum): this {
    return this.set(o.vh, o.vl, o.mh, o.ml);
  }

  load(t: Tnum): this {
    splitHalves(t.value);
    this.vh = HALVES.hi;
    this.vl = HALVES.lo;
    splitHalves(t.mask);
    this.mh = HALVES.hi;
    this.ml = HALVES.lo;
    return this;
  }

  toTnum(): Tnum {
    return tnum(join64(this.vh, this.vl), join64(this.mh, this.ml));
  }

  equals(o: SplitTnum): boolean {
    return this.vl === o.vl && this.vh === o.vh && this.ml === o.ml && this.mh === o.mh;
  }

  isConst(): boolean {
    return this.ml === 0 && this.mh === 0;
  }

  isUnknown(): boolean {
    return this.ml === 0xffff_ffff && this.mh === 0xffff_ffff;
  }
}

const TWO32 = 4294967296;

/** The halves splitHalves() leaves. */
export const HALVES = { hi: 0, lo: 0 };

// A u64 slot viewed as two u32s: BigInt <-> halves without BigInt arithmetic.
const U64_SLOT = new BigUint64Array(1);
const S64_SLOT = new BigInt64Array(U64_SLOT.buffer);
const U32_SLOTS = new Uint32Array(U64_SLOT.buffer);
U64_SLOT[0] = 1n;
const LO = U32_SLOTS[0] === 1 ? 0 : 1; // host byte order
const HI = 1 - LO;

/** Split a bigint (u64, or s64 in two's complement) into u32 halves, left in HALVES. */
export function splitHalves(x: bigint): void {
  U64_SLOT[0] = x; // ToBigUint64: taken mod 2^64
  HALVES.lo = U32_SLOTS[LO]!;
  HALVES.hi = U32_SLOTS[HI]!;
}

/** Bits 32..63 of a u64 bigint (or of a negative bigint's two's complement) as a u32. */
export function hiOf(x: bigint): number {
  splitHalves(x);
  return HALVES.hi;
}
/** Bits 0..31 of a bigint as a u32. */
export function loOf(x: bigint): number {
  splitHalves(x);
  return HALVES.lo;
}
/** hi:lo as a u64 bigint. */
export function join64(hi: number, lo: number): bigint {
  U32_SLOTS[LO] = lo;
  U32_SLOTS[HI] = hi;
  return U64_SLOT[0]!;
}
/** hi:lo as an s64 bigint. */
export function join64s(hi: number, lo: number): bigint {
  U32_SLOTS[LO] = lo;
  U32_SLOTS[HI] = hi;
  return S64_SLOT[0]!;
}

/** 2^k for k = 0..64, exact in doubles (a table: `2 ** k` is slow in V8). */
export const POW2: Float64Array = Float64Array.from({ length: 65 }, (_, k) => 2 ** k);

/** Number of the highest set bit plus one (0 for 0) of hi:lo. */
export function fls64Split(hi: number, lo: number): number {
  if (hi !== 0) return 64 - Math.clz32(hi);
  return lo === 0 ? 0 : 32 - Math.clz32(lo);
}

/** Low `bits` bits set (bits 0..64): the high half. */
const lowMaskHi = (bits: number): number => (bits <= 32 ? 0 : bits >= 64 ? 0xffff_ffff : 0xffff_ffff >>> (64 - bits));
/** Low `bits` bits set: the low half. */
const lowMaskLo = (bits: number): number => (bits >= 32 ? 0xffff_ffff : bits <= 0 ? 0 : 0xffff_ffff >>> (32 - bits));

/** out = a + b */
export function splitAdd(out: SplitTnum, a: SplitTnum, b: SplitTnum): SplitTnum {
  // sm = a.m + b.m, sv = a.v + b.v, sigma = sm + sv (all mod 2^64)
  let t = a.ml + b.ml;
  const smL = t >>> 0;
  const smH = (a.mh + b.mh + (t >= TWO32 ? 1 : 0)) >>> 0;
  t = a.vl + b.vl;
  const svL = t >>> 0;
  const svH = (a.vh + b.vh + (t >= TWO32 ? 1 : 0)) >>> 0;
  t = smL + svL;
  const sgL = t >>> 0;
  const sgH = (smH + svH + (t >= TWO32 ? 1 : 0)) >>> 0;
  const muL = ((sgL ^ svL) | a.ml | b.ml) >>> 0;
  const muH = ((sgH ^ svH) | a.mh | b.mh) >>> 0;
  return out.set((svH & ~muH) >>> 0, (svL & ~muL) >>> 0, muH, muL);
}

/** out = a - b */
export function splitSub(out: SplitTnum, a: SplitTnum, b: SplitTnum): SplitTnum {
  // dv = a.v - b.v, alpha = dv + a.m, beta = dv - b.m
  let t = a.vl - b.vl;
  const dvL = t >>> 0;
  const dvH = (a.vh - b.vh - (t < 0 ? 1 : 0)) >>> 0;
  t = dvL + a.ml;
  const alL = t >>> 0;
  const alH = (dvH + a.mh + (t >= TWO32 ? 1 : 0)) >>> 0;
  t = dvL - b.ml;
  const beL = t >>> 0;
  const beH = (dvH - b.mh - (t < 0 ? 1 : 0)) >>> 0;
  const muL = ((alL ^ beL) | a.ml | b.ml) >>> 0;
  const muH = ((alH ^ beH) | a.mh | b.mh) >>> 0;
  return out.set((dvH & ~muH) >>> 0, (dvL & ~muL) >>> 0, muH, muL);
}

export function splitAnd(out: SplitTnum, a: SplitTnum, b: SplitTnum): SplitTnum {
  const vl = (a.vl & b.vl) >>> 0;
  const vh = (a.vh & b.vh) >>> 0;
  const ml = ((a.vl | a.ml) & (b.vl | b.ml) & ~vl) >>> 0;
  const mh = ((a.vh | a.mh) & (b.vh | b.mh) & ~vh) >>> 0;
  return out.set(vh, vl, mh, ml);
}

export function splitOr(out: SplitTnum, a: SplitTnum, b: SplitTnum): SplitTnum {
  const vl = (a.vl | b.vl) >>> 0;
  const vh = (a.vh | b.vh) >>> 0;
  return out.set(vh, vl, ((a.mh | b.mh) & ~vh) >>> 0, ((a.ml | b.ml) & ~vl) >>> 0);
}

export function splitXor(out: SplitTnum, a: SplitTnum, b: SplitTnum): SplitTnum {
  const ml = (a.ml | b.ml) >>> 0;
  const mh = (a.mh | b.mh) >>> 0;
  return out.set(((a.vh ^ b.vh) & ~mh) >>> 0, ((a.vl ^ b.vl) & ~ml) >>> 0, mh, ml);
}

export function splitIntersect(out: SplitTnum, a: SplitTnum, b: SplitTnum): SplitTnum {
  const ml = (a.ml & b.ml) >>> 0;
  const mh = (a.mh & b.mh) >>> 0;
  return out.set(((a.vh | b.vh) & ~mh) >>> 0, ((a.vl | b.vl) & ~ml) >>> 0, mh, ml);
}

export function splitUnion(out: SplitTnum, a: SplitTnum, b: SplitTnum): SplitTnum {
  const ml = ((a.vl ^ b.vl) | a.ml | b.ml) >>> 0;
  const mh = ((a.vh ^ b.vh) | a.mh | b.mh) >>> 0;
  return out.set((a.vh & b.vh & ~mh) >>> 0, (a.vl & b.vl & ~ml) >>> 0, mh, ml);
}

/** Logical shift left of a u64 hi:lo by k (0..63): the high half (shlLo: the low half). */
export const shlHi = (hi: number, lo: number, k: number): number =>
  k === 0 ? hi : k < 32 ? ((hi << k) | (lo >>> (32 - k))) >>> 0 : (lo << (k - 32)) >>> 0;
export const shlLo = (lo: number, k: number): number => (k >= 32 ? 0 : (lo << k) >>> 0);
/** Logical shift right by k (0..63). */
export const shrHi = (hi: number, k: number): number => (k >= 32 ? 0 : hi >>> k);
export const shrLo = (hi: number, lo: number, k: number): number =>
  k === 0 ? lo : k < 32 ? ((lo >>> k) | (hi << (32 - k))) >>> 0 : hi >>> (k - 32);
/** Arithmetic shift right by k (0..63). */
export const sarHi = (hi: number, k: number): number => (k >= 32 ? (hi | 0) >> 31 : (hi | 0) >> k) >>> 0;
export const sarLo = (hi: number, lo: number, k: number): number =>
  k === 0 ? lo : k < 32 ? ((lo >>> k) | (hi << (32 - k))) >>> 0 : ((hi | 0) >> (k - 32)) >>> 0;

export function splitLshift(out: SplitTnum, a: SplitTnum, k: number): SplitTnum {
  return out.set(shlHi(a.vh, a.vl, k), shlLo(a.vl, k), shlHi(a.mh, a.ml, k), shlLo(a.ml, k));
}

export function splitRshift(out: SplitTnum, a: SplitTnum, k: number): SplitTnum {
  return out.set(shrHi(a.vh, k), shrLo(a.vh, a.vl, k), shrHi(a.mh, k), shrLo(a.mh, a.ml, k));
}

/** Arithmetic shift of the 64-bit tnum, or (insnBits 32) of its subregister, zero-extended. */
export function splitArshift(out: SplitTnum, a: SplitTnum, k: number, insnBits: 32 | 64): SplitTnum {
  if (insnBits === 32) return out.set(0, ((a.vl | 0) >> k) >>> 0, 0, ((a.ml | 0) >> k) >>> 0);
  return out.set(sarHi(a.vh, k), sarLo(a.vh, a.vl, k), sarHi(a.mh, k), sarLo(a.mh, a.ml, k));
}

/** tnumMul in split form (long multiplication, unknown bits taking the union). */
export function splitMul(out: SplitTnum, a: SplitTnum, b: SplitTnum): SplitTnum {
  const acc = MUL_ACC.set(0, 0, 0, 0);
  const bb = MUL_B.copy(b);
  const sum = MUL_SUM;
  let { vl, vh, ml, mh } = a;
  while ((vl | vh | ml | mh) !== 0) {
    if ((vl & 1) !== 0) {
      splitAdd(acc, acc, bb);
    } else if ((ml & 1) !== 0) {
      splitAdd(sum, acc, bb);
      splitUnion(acc, acc, sum);
    }
    vl = ((vl >>> 1) | (vh << 31)) >>> 0;
    vh >>>= 1;
    ml = ((ml >>> 1) | (mh << 31)) >>> 0;
    mh >>>= 1;
    bb.set(shlHi(bb.vh, bb.vl, 1), shlLo(bb.vl, 1), shlHi(bb.mh, bb.ml, 1), shlLo(bb.ml, 1));
  }
  return out.copy(acc);
}
const MUL_ACC = new SplitTnum();
const MUL_B = new SplitTnum();
const MUL_SUM = new SplitTnum();

/** tnumRange(minH:minL, maxH:maxL) in split form. */
export function splitRange(out: SplitTnum, minH: number, minL: number, maxH: number, maxL: number): SplitTnum {
  const bits = fls64Split((minH ^ maxH) >>> 0, (minL ^ maxL) >>> 0);
  if (bits > 63) return out.set(0, 0, 0xffff_ffff, 0xffff_ffff);
  const dh = lowMaskHi(bits);
  const dl = lowMaskLo(bits);
  return out.set((minH & ~dh) >>> 0, (minL & ~dl) >>> 0, dh, dl);
}

/** Result of splitStep: the high and low halves. */
export const STEP = { hi: 0, lo: 0 };

/** tnumStep(t, zh:zl) in split form; the result is left in STEP. */
export function splitStep(t: SplitTnum, zh: number, zl: number): void {
  const th = (t.vh | t.mh) >>> 0;
  const tl = (t.vl | t.ml) >>> 0;
  if (zh > th || (zh === th && zl >= tl)) {
    STEP.hi = th;
    STEP.lo = tl;
    return;
  }
  if (zh < t.vh || (zh === t.vh && zl < t.vl)) {
    STEP.hi = t.vh;
    STEP.lo = t.vl;
    return;
  }
  // y = z + 1 (no overflow: z < tmax)
  const yl = (zl + 1) >>> 0;
  const yh = yl === 0 ? (zh + 1) >>> 0 : zh;
  const xl = (t.vl | (yl & t.ml)) >>> 0;
  const xh = (t.vh | (yh & t.mh)) >>> 0;
  const dl = (xl ^ yl) >>> 0;
  const dh = (xh ^ yh) >>> 0;
  if ((dl | dh) === 0) {
    STEP.hi = yh;
    STEP.lo = yl;
    return;
  }
  const p = fls64Split(dh, dl) - 1;
  const bh = lowMaskHi(p);
  const bl = lowMaskLo(p);
  const xBitP = p >= 32 ? (xh >>> (p - 32)) & 1 : (xl >>> p) & 1;
  if (xBitP === 1) {
    STEP.hi = ((xh & ~bh) | (t.vh & bh)) >>> 0;
    STEP.lo = ((xl & ~bl) | (t.vl & bl)) >>> 0;
    return;
  }
  // lowest unknown bit above p that is 0 in x
  const ah = lowMaskHi(p + 1);
  const al = lowMaskLo(p + 1);
  const fl = (t.ml & ~xl & ~al) >>> 0;
  const fh = (t.mh & ~xh & ~ah) >>> 0;
  let qh = 0;
  let ql = 0;
  if (fl !== 0) ql = (fl & -fl) >>> 0;
  else qh = (fh & -fh) >>> 0;
  // underQ = q - 1
  const uh = ql !== 0 ? 0 : (qh - 1) >>> 0;
  const ul = ql !== 0 ? (ql - 1) >>> 0 : 0xffff_ffff;
  STEP.hi = ((xh & ~uh) | qh | (t.vh & uh)) >>> 0;
  STEP.lo = ((xl & ~ul) | ql | (t.vl & ul)) >>> 0;
}
