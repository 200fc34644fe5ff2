/**
 * ALU transfer functions of the scalar domain: what `dst op= src` makes of two
 * scalars, as the kernel's adjust_scalar_min_max_vals() (kernel/bpf/verifier.c)
 * computes it — the tnum and all four ranges updated per operation
 * (scalar_min_max_add/sub/mul/and/or/xor/lsh/rsh/arsh and their 32-bit twins),
 * 32-bit results zero-extended, then reg_bounds_sync(). Behaviour follows the
 * kernel this project verifies against (Linux 6.18); see docs/verifier-scalars.md.
 *
 * 64-bit quantities are worked on as u32 halves (see Reg in scalar.ts).
 */
import {
  REG_A, REG_B, REG_C, Reg, S32_MAX, S32_MIN, SUM, U32_MAX, add64, constScalar, ltS, ltU, sub64, unknownScalar,
  type Scalar,
} from './scalar.js';
import {
  POW2, SplitTnum, U32_MASK, U64_MASK, hiOf, join64, join64s, loOf, sarHi, sarLo, shlHi, shlLo, shrHi, shrLo, splitAdd, splitAnd,
  splitArshift, splitLshift, splitMul, splitOr, splitRshift, splitSub, splitXor,
} from './tnum.js';

export type AluOp =
  | 'add' | 'sub' | 'mul' | 'div' | 'sdiv' | 'mod' | 'smod' | 'or' | 'and' | 'xor' | 'lsh' | 'rsh' | 'arsh' | 'neg' | 'mov'
  | 'end';

const ZERO = new SplitTnum();

// ---------------------------------------------------------------- add / sub / mul

function add32(r: Reg, s: Reg): void {
  const smin = r.s32min + s.s32min;
  const smax = r.s32max + s.s32max;
  if (smin < S32_MIN || smin > S32_MAX || smax < S32_MIN || smax > S32_MAX) {
    r.s32min = S32_MIN;
    r.s32max = S32_MAX;
  } else {
    r.s32min = smin;
    r.s32max = smax;
  }
  // All additions wrapping, or none, keeps a range; only some wrapping loses it.
  const umin = r.u32min + s.u32min;
  const umax = r.u32max + s.u32max;
  if (umin <= U32_MAX && umax > U32_MAX) {
    r.u32min = 0;
    r.u32max = U32_MAX;
  } else {
    r.u32min = umin >>> 0;
    r.u32max = umax >>> 0;
  }
}

/** Did a + b = sum overflow as s64? (Operands of one sign, sum of the other.) */
const addOverflows = (ah: number, bh: number, sh: number): boolean => ((~(ah ^ bh) & (ah ^ sh)) >>> 31) === 1;
/** Did a - b = diff overflow as s64? (Operands of different signs, result not a's.) */
const subOverflows = (ah: number, bh: number, dh: number): boolean => (((ah ^ bh) & (ah ^ dh)) >>> 31) === 1;

function aluAdd64(r: Reg, s: Reg): void {
  add64(r.sminH, r.sminL, s.sminH, s.sminL);
  const minH = SUM.hi;
  const minL = SUM.lo;
  const minOv = addOverflows(r.sminH, s.sminH, minH);
  add64(r.smaxH, r.smaxL, s.smaxH, s.smaxL);
  if (minOv || addOverflows(r.smaxH, s.smaxH, SUM.hi)) {
    r.setSmin(0x8000_0000, 0);
    r.setSmax(0x7fff_ffff, 0xffff_ffff);
  } else {
    r.setSmin(minH, minL);
    r.setSmax(SUM.hi, SUM.lo);
  }
  add64(r.uminH, r.uminL, s.uminH, s.uminL);
  const uminH = SUM.hi;
  const uminL = SUM.lo;
  const uminOv = SUM.carry;
  add64(r.umaxH, r.umaxL, s.umaxH, s.umaxL);
  if (!uminOv && SUM.carry) {
    r.setUmin(0, 0);
    r.setUmax(0xffff_ffff, 0xffff_ffff);
  } else {
    r.setUmin(uminH, uminL);
    r.setUmax(SUM.hi, SUM.lo);
  }
}

function sub32(r: Reg, s: Reg): void {
  const smin = r.s32min - s.s32max;
  const smax = r.s32max - s.s32min;
  if (smin < S32_MIN || smin > S32_MAX || smax < S32_MIN || smax > S32_MAX) {
    r.s32min = S32_MIN;
    r.s32max = S32_MAX;
  } else {
    r.s32min = smin;
    r.s32max = smax;
  }
  const umin = r.u32min - s.u32max;
  const umax = r.u32max - s.u32min;
  if (umin < 0 && umax >= 0) {
    r.u32min = 0;
    r.u32max = U32_MAX;
  } else {
    r.u32min = umin >>> 0;
    r.u32max = umax >>> 0;
  }
}

function aluSub64(r: Reg, s: Reg): void {
  sub64(r.sminH, r.sminL, s.smaxH, s.smaxL);
  const minH = SUM.hi;
  const minL = SUM.lo;
  const minOv = subOverflows(r.sminH, s.smaxH, minH);
  sub64(r.smaxH, r.smaxL, s.sminH, s.sminL);
  if (minOv || subOverflows(r.smaxH, s.sminH, SUM.hi)) {
    r.setSmin(0x8000_0000, 0);
    r.setSmax(0x7fff_ffff, 0xffff_ffff);
  } else {
    r.setSmin(minH, minL);
    r.setSmax(SUM.hi, SUM.lo);
  }
  sub64(r.uminH, r.uminL, s.umaxH, s.umaxL);
  const uminH = SUM.hi;
  const uminL = SUM.lo;
  const uminUnder = SUM.carry;
  sub64(r.umaxH, r.umaxL, s.uminH, s.uminL);
  if (uminUnder && !SUM.carry) {
    r.setUmin(0, 0);
    r.setUmax(0xffff_ffff, 0xffff_ffff);
  } else {
    r.setUmin(uminH, uminL);
    r.setUmax(SUM.hi, SUM.lo);
  }
}

function mul32(r: Reg, s: Reg): void {
  // Products of u32s and s32s are exact enough in doubles to tell whether they overflow,
  // and exact when they do not.
  const umax = r.u32max * s.u32max;
  const umin = r.u32min * s.u32min;
  if (umax > U32_MAX || umin > U32_MAX) {
    r.u32min = 0;
    r.u32max = U32_MAX;
  } else {
    r.u32min = umin;
    r.u32max = umax;
  }
  const p0 = r.s32min * s.s32min;
  const p1 = r.s32min * s.s32max;
  const p2 = r.s32max * s.s32min;
  const p3 = r.s32max * s.s32max;
  const fits = (p: number): boolean => p >= S32_MIN && p <= S32_MAX;
  if (!fits(p0) || !fits(p1) || !fits(p2) || !fits(p3)) {
    r.s32min = S32_MIN;
    r.s32max = S32_MAX;
  } else {
    r.s32min = Math.min(p0, p1, p2, p3);
    r.s32max = Math.max(p0, p1, p2, p3);
  }
}

const S64_MIN = -(1n << 63n);
const S64_MAX = (1n << 63n) - 1n;

/** 64-bit products need more than doubles: done in BigInt (multiplication is rare). */
function mul64(r: Reg, s: Reg): void {
  const rumax = join64(r.umaxH, r.umaxL);
  const rumin = join64(r.uminH, r.uminL);
  const umax = rumax * join64(s.umaxH, s.umaxL);
  const umin = rumin * join64(s.uminH, s.uminL);
  if (umax > U64_MASK || umin > U64_MASK) {
    r.setUmin(0, 0);
    r.setUmax(0xffff_ffff, 0xffff_ffff);
  } else {
    r.setUmin(hiOf(umin), loOf(umin));
    r.setUmax(hiOf(umax), loOf(umax));
  }
  const a = join64s(r.sminH, r.sminL);
  const b = join64s(r.smaxH, r.smaxL);
  const c = join64s(s.sminH, s.sminL);
  const d = join64s(s.smaxH, s.smaxL);
  const p = [a * c, a * d, b * c, b * d];
  let lo = p[0]!;
  let hi = p[0]!;
  let overflow = false;
  for (const x of p) {
    if (x < S64_MIN || x > S64_MAX) overflow = true;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  if (overflow) {
    r.setSmin(0x8000_0000, 0);
    r.setSmax(0x7fff_ffff, 0xffff_ffff);
  } else {
    r.setSmin(hiOf(lo), loOf(lo));
    r.setSmax(hiOf(hi), loOf(hi));
  }
}

// ---------------------------------------------------------------- and / or / xor
// (var_off is already the result's when these run)

/** s32 bounds from u32 ones when the u32 range does not cross the sign boundary, else unbounded. */
function s32FromU32(r: Reg): void {
  if ((r.u32min | 0) <= (r.u32max | 0)) {
    r.s32min = r.u32min | 0;
    r.s32max = r.u32max | 0;
  } else {
    r.s32min = S32_MIN;
    r.s32max = S32_MAX;
  }
}

function s64FromU64(r: Reg): void {
  if (!ltS(r.umaxH, r.umaxL, r.uminH, r.uminL)) {
    r.setSmin(r.uminH, r.uminL);
    r.setSmax(r.umaxH, r.umaxL);
  } else {
    r.setSmin(0x8000_0000, 0);
    r.setSmax(0x7fff_ffff, 0xffff_ffff);
  }
}

function and32(r: Reg, s: Reg): void {
  if (s.v.ml === 0 && r.v.ml === 0) {
    r.markKnown32(r.v.vl);
    return;
  }
  // The minimum is bitwise (known ones); the maximum is the smaller operand maximum.
  r.u32min = r.v.vl;
  r.u32max = Math.min(r.u32max, s.u32max);
  s32FromU32(r);
}

function and64(r: Reg, s: Reg): void {
  if (s.v.isConst() && r.v.isConst()) {
    r.markKnown(r.v.vh, r.v.vl);
    return;
  }
  r.setUmin(r.v.vh, r.v.vl);
  if (ltU(s.umaxH, s.umaxL, r.umaxH, r.umaxL)) r.setUmax(s.umaxH, s.umaxL);
  s64FromU64(r);
  r.updateBounds();
}

function or32(r: Reg, s: Reg): void {
  if (s.v.ml === 0 && r.v.ml === 0) {
    r.markKnown32(r.v.vl);
    return;
  }
  // The maximum is bitwise (all possible ones); the minimum is the larger operand minimum.
  r.u32min = Math.max(r.u32min, s.u32min);
  r.u32max = (r.v.vl | r.v.ml) >>> 0;
  s32FromU32(r);
}

function or64(r: Reg, s: Reg): void {
  if (s.v.isConst() && r.v.isConst()) {
    r.markKnown(r.v.vh, r.v.vl);
    return;
  }
  if (ltU(r.uminH, r.uminL, s.uminH, s.uminL)) r.setUmin(s.uminH, s.uminL);
  r.setUmax((r.v.vh | r.v.mh) >>> 0, (r.v.vl | r.v.ml) >>> 0);
  s64FromU64(r);
  r.updateBounds();
}

function xor32(r: Reg, s: Reg): void {
  if (s.v.ml === 0 && r.v.ml === 0) {
    r.markKnown32(r.v.vl);
    return;
  }
  r.u32min = r.v.vl;
  r.u32max = (r.v.vl | r.v.ml) >>> 0;
  s32FromU32(r);
}

function xor64(r: Reg, s: Reg): void {
  if (s.v.isConst() && r.v.isConst()) {
    r.markKnown(r.v.vh, r.v.vl);
    return;
  }
  r.setUmin(r.v.vh, r.v.vl);
  r.setUmax((r.v.vh | r.v.mh) >>> 0, (r.v.vl | r.v.ml) >>> 0);
  s64FromU64(r);
  r.updateBounds();
}

// ---------------------------------------------------------------- shifts (by a known amount < width)

/** __scalar32_min_max_lsh: u32 bounds shift unless the top bit may be shifted out. */
function lshBounds32(r: Reg, kmin: number, kmax: number): void {
  r.s32min = S32_MIN;
  r.s32max = S32_MAX;
  if (kmax > 31 || r.u32max > POW2[31 - kmax]!) {
    r.u32min = 0;
    r.u32max = U32_MAX;
  } else {
    r.u32min = (r.u32min * POW2[kmin]!) >>> 0;
    r.u32max = (r.u32max * POW2[kmax]!) >>> 0;
  }
}

/** __scalar64_min_max_lsh. `<< 32` keeps the s32 bounds as s64 ones (the sign-extension idiom `<<32 s>>32`). */
function lshBounds64(r: Reg, kmin: number, kmax: number): void {
  if (kmin === 32 && kmax === 32) {
    r.setSmax(r.s32max >>> 0, 0);
    r.setSmin(r.s32min >>> 0, 0);
  } else {
    r.setSmin(0x8000_0000, 0);
    r.setSmax(0x7fff_ffff, 0xffff_ffff);
  }
  // limit = 1 << (63 - kmax)
  const b = 63 - kmax;
  const limH = b >= 32 ? POW2[b - 32]! : 0;
  const limL = b >= 32 ? 0 : POW2[b]!;
  if (ltU(limH, limL, r.umaxH, r.umaxL)) {
    r.setUmin(0, 0);
    r.setUmax(0xffff_ffff, 0xffff_ffff);
  } else {
    r.setUmin(shlHi(r.uminH, r.uminL, kmin), shlLo(r.uminL, kmin));
    r.setUmax(shlHi(r.umaxH, r.umaxL, kmax), shlLo(r.umaxL, kmax));
  }
}

function lsh32(r: Reg, s: Reg): void {
  const k = s.u32min;
  lshBounds32(r, k, s.u32max);
  r.v.set(0, shlLo(r.v.vl, k), 0, shlLo(r.v.ml, k));
  r.markUnbounded64();
  r.updateBounds32();
}

function lsh64(r: Reg, s: Reg): void {
  const kmin = s.uminL;
  const kmax = s.umaxL;
  lshBounds64(r, kmin, kmax);
  lshBounds32(r, kmin, kmax);
  splitLshift(r.v, r.v, kmin);
  r.updateBounds();
}

function rsh32(r: Reg, s: Reg): void {
  // Logical shift: the signed bounds say nothing that the unsigned ones and var_off do not.
  const k = s.u32min;
  r.s32min = S32_MIN;
  r.s32max = S32_MAX;
  r.v.set(0, r.v.vl >>> k, 0, r.v.ml >>> k);
  r.u32min >>>= s.u32max;
  r.u32max >>>= k;
  r.markUnbounded64();
  r.updateBounds32();
}

function rsh64(r: Reg, s: Reg): void {
  const kmin = s.uminL;
  const kmax = s.umaxL;
  r.setSmin(0x8000_0000, 0);
  r.setSmax(0x7fff_ffff, 0xffff_ffff);
  splitRshift(r.v, r.v, kmin);
  r.setUmin(shrHi(r.uminH, kmax), shrLo(r.uminH, r.uminL, kmax));
  r.setUmax(shrHi(r.umaxH, kmin), shrLo(r.umaxH, r.umaxL, kmin));
  r.markUnbounded32();
  r.updateBounds();
}

function arsh32(r: Reg, s: Reg): void {
  const k = s.u32min;
  r.s32min >>= k;
  r.s32max >>= k;
  splitArshift(r.v, r.v, k, 32);
  r.u32min = 0;
  r.u32max = U32_MAX;
  r.markUnbounded64();
  r.updateBounds32();
}

function arsh64(r: Reg, s: Reg): void {
  const k = s.uminL;
  r.setSmin(sarHi(r.sminH, k), sarLo(r.sminH, r.sminL, k));
  r.setSmax(sarHi(r.smaxH, k), sarLo(r.smaxH, r.smaxL, k));
  splitArshift(r.v, r.v, k, 64);
  r.setUmin(0, 0);
  r.setUmax(0xffff_ffff, 0xffff_ffff);
  r.markUnbounded32();
  r.updateBounds();
}

// ---------------------------------------------------------------- the dispatcher

/** Shifts are tracked only by a known amount below the width (is_safe_to_compute_dst_reg_range). */
function shiftAmountKnown(src: Scalar, width: 32 | 64): boolean {
  const known = width === 32
    ? (src.var.mask & U32_MASK) === 0n && src.s32min === src.s32max && src.u32min === src.u32max
    : src.var.mask === 0n && src.smin === src.smax && src.umin === src.umax;
  return known && src.umax < (width === 32 ? 32n : 64n);
}

/** The concrete result of op on two constants (RFC 9669), for the ops the domain tracks. */
function concrete(op: AluOp, d: bigint, s: bigint, width: 32 | 64): bigint {
  const m = width === 32 ? U32_MASK : U64_MASK;
  const a = d & m;
  const b = s & m;
  switch (op) {
    case 'add': return (a + b) & m;
    case 'sub': return (a - b) & m;
    case 'mul': return (a * b) & m;
    case 'and': return a & b;
    case 'or': return a | b;
    case 'xor': return a ^ b;
    case 'lsh': return (a << b) & m;
    case 'rsh': return a >> b;
    case 'arsh': return (BigInt.asIntN(width, a) >> b) & m;
    case 'neg': return -a & m;
    default: throw new Error(`no constant folding for ${op}`);
  }
}

/**
 * The transfer function itself (adjust_scalar_min_max_vals) without the
 * constant-folding shortcut and without the checks scalarAlu() makes first.
 * Exported so tests can check that the shortcut gives exactly what the kernel's
 * step-by-step computation gives.
 */
export function scalarAluTracked(op: AluOp, dst: Scalar, src: Scalar, width: 32 | 64): Scalar {
  const r = REG_A.load(dst);
  const s = op === 'neg' ? r : REG_B.load(src);
  switch (op) {
    case 'add':
      add32(r, s);
      aluAdd64(r, s);
      splitAdd(r.v, r.v, s.v);
      break;
    case 'sub':
      sub32(r, s);
      aluSub64(r, s);
      splitSub(r.v, r.v, s.v);
      break;
    case 'neg': {
      // 0 - dst
      const fake = REG_C.copyFrom(r);
      r.markKnown(0, 0);
      sub32(r, fake);
      aluSub64(r, fake);
      splitSub(r.v, ZERO, fake.v);
      break;
    }
    case 'mul':
      splitMul(r.v, r.v, s.v);
      mul32(r, s);
      mul64(r, s);
      break;
    case 'and':
      splitAnd(r.v, r.v, s.v);
      and32(r, s);
      and64(r, s);
      break;
    case 'or':
      splitOr(r.v, r.v, s.v);
      or32(r, s);
      or64(r, s);
      break;
    case 'xor':
      splitXor(r.v, r.v, s.v);
      xor32(r, s);
      xor64(r, s);
      break;
    case 'lsh':
      if (width === 32) lsh32(r, s);
      else lsh64(r, s);
      break;
    case 'rsh':
      if (width === 32) rsh32(r, s);
      else rsh64(r, s);
      break;
    case 'arsh':
      if (width === 32) arsh32(r, s);
      else arsh64(r, s);
      break;
    default:
      throw new Error(`scalarAluTracked: ${op} is not a tracked operation`);
  }
  if (width === 32) r.zext32();
  r.sync();
  r.sanitize();
  return r.toScalar();
}

/**
 * `dst op= src` at 32 or 64 bits (ALU or ALU64 class), as the kernel computes it.
 *
 * - mov: the source (width 32: its subregister, zero-extended).
 * - neg: `src` is ignored.
 * - lsh/rsh/arsh by anything but a known amount below the width: unknown (all 64 bits,
 *   as the kernel marks the register unknown without zero-extending).
 * - div/sdiv/mod/smod: unknown, all 64 bits, at either width — Linux 6.18 does not track
 *   them (is_safe_to_compute_dst_reg_range) and does not zero-extend the unknown result.
 * - end: unknown, since the swap direction and size are not part of this call; the
 *   kernel does track byte swaps, use scalarEndian() for that.
 *
 * For and/or, the kernel may first fork the state (scalarAluFork); this function
 * computes one branch.
 */
export function scalarAlu(op: AluOp, dst: Scalar, src: Scalar, width: 32 | 64): Scalar {
  switch (op) {
    case 'mov': {
      if (width === 64) return src;
      const r = REG_A.load(src);
      r.zext32();
      r.sync();
      return r.toScalar();
    }
    case 'div': case 'sdiv': case 'mod': case 'smod': case 'end':
      return unknownScalar();
    case 'lsh': case 'rsh': case 'arsh':
      if (!shiftAmountKnown(src, width)) return unknownScalar();
      break;
    default:
      break;
  }
  // Constants fold to constants (the tracked computation ends at the same constant).
  if (dst.var.mask === 0n && (op === 'neg' || src.var.mask === 0n)) {
    return constScalar(concrete(op, dst.var.value, src.var.value, width));
  }
  return scalarAluTracked(op, dst, src, width);
}

/**
 * maybe_fork_scalars: for `and`/`or` with a constant source, a destination known
 * to be -1 or 0 (as a comparison result often is) is split into the two constants
 * so each is tracked exactly. Returns undefined when the kernel does not fork, else
 * [the destination for the state the kernel pushes (0; Linux 6.18 re-executes this
 * instruction in it), the destination this state continues with (-1)]. The 64-bit
 * range is tested first, then the 32-bit one (whose fork sets only the subregister).
 */
export function scalarAluFork(op: AluOp, dst: Scalar, src: Scalar, _width: 32 | 64): [Scalar, Scalar] | undefined {
  if ((op !== 'and' && op !== 'or') || src.var.mask !== 0n) return undefined;
  if (dst.smin === -1n && dst.smax === 0n) return [constScalar(0n), constScalar(-1n)];
  if (dst.s32min === -1 && dst.s32max === 0) {
    const zero = REG_A.load(dst);
    zero.markKnown32(0);
    const z = zero.toScalar();
    const ones = REG_A.load(dst);
    ones.markKnown32(-1);
    return [z, ones.toScalar()];
  }
  return undefined;
}

const swap16 = (x: number): number => ((x & 0xff) << 8) | ((x >>> 8) & 0xff);
const swap32 = (x: number): number =>
  (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;

/**
 * BPF_END as the kernel tracks it (scalar_byte_swap, on a little-endian host):
 * `le` 16/32 truncates and `le` 64 changes nothing; `be` (ALU class, source X) and
 * `bswap` (ALU64 class) swap the low `bits` bits' tnum — bounds are then rebuilt
 * from it — and 16/32 truncate.
 */
export function scalarEndian(dst: Scalar, kind: 'le' | 'be' | 'bswap', bits: 16 | 32 | 64): Scalar {
  const r = REG_A.load(dst);
  if (kind !== 'le') {
    const v = r.v;
    if (bits === 16) v.set(0, swap16(v.vl), 0, swap16(v.ml));
    else if (bits === 32) v.set(0, swap32(v.vl), 0, swap32(v.ml));
    else v.set(swap32(v.vl), swap32(v.vh), swap32(v.ml), swap32(v.mh));
    r.markUnbounded64();
    r.markUnbounded32();
  }
  if (bits !== 64) r.truncate(bits / 8);
  r.sync();
  r.sanitize();
  return r.toScalar();
}
