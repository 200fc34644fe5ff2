/**
 * Tristate numbers (offload/verifier/tnum.ts): hand-computed cases, then
 * soundness properties with fast-check (fixed seeds): for random tnums a, b and
 * concrete members x ∈ a, y ∈ b, op(x, y) ∈ tnumOp(a, b). The split (u32 halves)
 * forms the scalar domain uses internally are checked against the bigint forms.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  SplitTnum, STEP, TNUM_UNKNOWN, hiOf, join64, join64s, loOf, splitAdd, splitAnd, splitArshift, splitIntersect, splitLshift,
  splitMul, splitOr, splitRange, splitRshift, splitStep, splitSub, splitUnion, splitXor, tnumAdd, tnumAnd, tnumArshift,
  tnumBswap16, tnumBswap32, tnumBswap64, tnumCast, tnumClearSubreg, tnumConst, tnumConstSubreg, tnumContains, tnumIn,
  tnumIntersect, tnumIsAligned, tnumIsConst, tnumLshift, tnumMul, tnumNeg, tnumOr, tnumOverlap, tnumRange, tnumRshift,
  tnumStep, tnumSub, tnumSubreg, tnumToString, tnumUnion, tnumWithSubreg, tnumXor, type Tnum,
} from '../../offload/verifier/tnum.js';

const M64 = (1n << 64n) - 1n;
const RUNS = 2000;
const t = (value: bigint, mask: bigint): Tnum => ({ value, mask });

// ---------------------------------------------------------------- generators

const u64 = (): fc.Arbitrary<bigint> => fc.bigInt({ min: 0n, max: M64 });

/** Masks with structure (a few low bits, a byte, a random scatter, everything) and plain random ones. */
const arbMask = fc.oneof(
  u64(),
  fc.integer({ min: 0, max: 64 }).map((k) => (1n << BigInt(k)) - 1n),
  fc.tuple(fc.integer({ min: 0, max: 56 }), fc.integer({ min: 1, max: 8 })).map(([s, k]) => ((1n << BigInt(k)) - 1n) << BigInt(s)),
  fc.constant(0n),
  fc.constant(M64),
  fc.tuple(u64(), u64()).map(([a, b]) => a & b & M64),
);
const arbTnum: fc.Arbitrary<Tnum> = fc.tuple(u64(), arbMask).map(([v, m]) => t(v & ~m & M64, m));
/** A tnum with a member of it (the member picks the unknown bits from a random u64). */
const arbMember = fc.tuple(arbTnum, u64()).map(([a, r]) => ({ a, x: a.value | (r & a.mask) }));

const opts = (seed: number) => ({ seed, numRuns: RUNS });

describe('tnum: hand-computed cases', () => {
  it('constants and unknowns', () => {
    expect(tnumConst(5n)).toEqual(t(5n, 0n));
    expect(tnumConst(-1n)).toEqual(t(M64, 0n));
    expect(TNUM_UNKNOWN).toEqual(t(0n, M64));
    expect(tnumIsConst(tnumConst(7n))).toBe(true);
    expect(tnumIsConst(t(0n, 1n))).toBe(false);
  });

  it('tnumRange keeps the common high bits and makes the rest unknown', () => {
    expect(tnumRange(0n, 2n)).toEqual(t(0n, 3n)); // {0,1,2,3}: 3 sneaks in, as the kernel notes
    expect(tnumRange(5n, 5n)).toEqual(t(5n, 0n));
    expect(tnumRange(0x100n, 0x1ffn)).toEqual(t(0x100n, 0xffn));
    expect(tnumRange(16n, 31n)).toEqual(t(16n, 15n));
    expect(tnumRange(0n, M64)).toEqual(TNUM_UNKNOWN);
    expect(tnumRange(1n << 63n, M64)).toEqual(t(1n << 63n, (1n << 63n) - 1n)); // 63 unknown bits, the sign known
  });

  it('add, sub and neg propagate carries into unknown bits', () => {
    expect(tnumAdd(t(0n, 1n), t(0n, 1n))).toEqual(t(0n, 3n)); // {0,1}+{0,1} = {0,1,2}
    expect(tnumAdd(tnumConst(3n), tnumConst(4n))).toEqual(tnumConst(7n));
    expect(tnumAdd(t(4n, 3n), tnumConst(4n))).toEqual(t(8n, 3n)); // 4..7 + 4 = 8..11
    expect(tnumSub(tnumConst(0n), tnumConst(1n))).toEqual(tnumConst(M64));
    expect(tnumSub(t(8n, 3n), tnumConst(8n))).toEqual(t(0n, 3n));
    expect(tnumNeg(tnumConst(1n))).toEqual(tnumConst(M64));
  });

  it('bitwise operations', () => {
    expect(tnumAnd(TNUM_UNKNOWN, tnumConst(0xffn))).toEqual(t(0n, 0xffn)); // r1 &= 0xff
    expect(tnumOr(t(0n, 0xffn), tnumConst(0x100n))).toEqual(t(0x100n, 0xffn));
    expect(tnumOr(t(0n, 3n), tnumConst(1n))).toEqual(t(1n, 2n));
    expect(tnumXor(t(1n, 2n), tnumConst(3n))).toEqual(t(0n, 2n)); // {1,3} ^ 3 = {2,0}
    expect(tnumIntersect(t(0n, 0xffn), t(0x10n, 0xf0fn))).toEqual(t(0x10n, 0x0fn));
    expect(tnumUnion(tnumConst(2n), tnumConst(3n))).toEqual(t(2n, 1n));
  });

  it('shifts, including the arithmetic shift of an unknown or known sign', () => {
    expect(tnumLshift(t(1n, 2n), 4)).toEqual(t(0x10n, 0x20n));
    expect(tnumLshift(tnumConst(1n << 63n), 1)).toEqual(tnumConst(0n));
    expect(tnumRshift(t(0x10n, 0x20n), 4)).toEqual(t(1n, 2n));
    expect(tnumArshift(tnumConst(1n << 63n), 62, 64)).toEqual(tnumConst(M64 - 1n)); // -2^63 >> 62 = -2
    expect(tnumArshift(t(0n, 1n << 63n), 63, 64)).toEqual(t(0n, M64)); // unknown sign spreads
    expect(tnumArshift(tnumConst(0x8000_0000n), 31, 32)).toEqual(tnumConst(0xffff_ffffn));
    expect(tnumArshift(tnumConst(0xffff_ffff_0000_0000n), 4, 32)).toEqual(tnumConst(0n)); // only the subregister
  });

  it('multiplication', () => {
    expect(tnumMul(tnumConst(6n), tnumConst(7n))).toEqual(tnumConst(42n));
    expect(tnumMul(t(0n, 3n), t(0n, 3n))).toEqual(t(0n, 0xfn));
    expect(tnumMul(tnumConst(4n), t(1n, 2n))).toEqual(t(4n, 8n)); // 4 * {1,3} = {4,12}
    expect(tnumMul(t(0n, 1n), tnumConst(5n))).toEqual(t(0n, 5n)); // {0,1} * 5 = {0,5}
  });

  it('casts and subregisters', () => {
    expect(tnumCast(t(0x1234n, 0xff0000n), 1)).toEqual(t(0x34n, 0n));
    expect(tnumCast(TNUM_UNKNOWN, 2)).toEqual(t(0n, 0xffffn));
    expect(tnumCast(TNUM_UNKNOWN, 8)).toEqual(TNUM_UNKNOWN);
    expect(tnumSubreg(t(0x1_0000_0002n, 0xf0_0000_0001n))).toEqual(t(2n, 1n));
    expect(tnumClearSubreg(t(0x1_0000_0002n, 0xf0_0000_0001n))).toEqual(t(0x1_0000_0000n, 0xf0_0000_0000n));
    expect(tnumWithSubreg(TNUM_UNKNOWN, tnumConst(7n))).toEqual(t(7n, 0xffff_ffff_0000_0000n));
    expect(tnumConstSubreg(tnumConst(0x5_0000_0000n), -1)).toEqual(tnumConst(0x5_ffff_ffffn));
  });

  it('membership, inclusion, alignment, overlap', () => {
    expect(tnumContains(t(0n, 0xffn), 0x7fn)).toBe(true);
    expect(tnumContains(t(0n, 0xffn), 0x100n)).toBe(false);
    expect(tnumContains(tnumConst(M64), -1n)).toBe(true);
    expect(tnumIn(t(0n, 0xffn), t(0x10n, 0x0fn))).toBe(true);
    expect(tnumIn(t(0x10n, 0x0fn), t(0n, 0xffn))).toBe(false);
    expect(tnumIn(tnumRange(0n, 2n), tnumConst(3n))).toBe(true); // the kernel's cautionary example
    expect(tnumIsAligned(t(0x10n, 0x30n), 16)).toBe(true);
    expect(tnumIsAligned(t(0x10n, 0x38n), 16)).toBe(false);
    expect(tnumIsAligned(TNUM_UNKNOWN, 0)).toBe(true);
    expect(tnumOverlap(t(0n, 0xf0n), tnumConst(0x10n))).toBe(true);
    expect(tnumOverlap(t(0n, 0xf0n), tnumConst(0x11n))).toBe(false);
  });

  it('step: the next member above a value', () => {
    const a = t(0b0111_0000n, 0b1000_0010n); // x1110 0x0 in the kernel's comment's notation
    expect(tnumStep(a, 0b1111_0001n)).toBe(0b1111_0010n);
    expect(tnumStep(a, 0n)).toBe(a.value);
    expect(tnumStep(a, 0xffn)).toBe(a.value | a.mask);
    expect(tnumStep(t(0n, 0x20000n), 4n)).toBe(0x20000n);
  });

  it('byte swaps move each byte with its known/unknown bits', () => {
    expect(tnumBswap16(t(0x12n, 0xff00n))).toEqual(t(0x1200n, 0xffn));
    expect(tnumBswap32(tnumConst(0x1122_3344n))).toEqual(tnumConst(0x4433_2211n));
    expect(tnumBswap64(t(0xffn, 0n))).toEqual(t(0xff00_0000_0000_0000n, 0n));
  });

  it('prints as the kernel log does', () => {
    expect(tnumToString(t(0n, 0xffn))).toBe('(0x0; 0xff)');
    expect(tnumToString(t(0x8000_0000_0000_0000n, 0x7fff_ffff_ffff_ffffn))).toBe('(0x8000000000000000; 0x7fffffffffffffff)');
    expect(tnumToString(tnumConst(16n))).toBe('(0x10; 0x0)');
  });
});

describe('tnum: soundness (fast-check)', () => {
  const binary: Array<[string, (a: Tnum, b: Tnum) => Tnum, (x: bigint, y: bigint) => bigint]> = [
    ['add', tnumAdd, (x, y) => (x + y) & M64],
    ['sub', tnumSub, (x, y) => (x - y) & M64],
    ['and', tnumAnd, (x, y) => x & y],
    ['or', tnumOr, (x, y) => x | y],
    ['xor', tnumXor, (x, y) => x ^ y],
    ['mul', tnumMul, (x, y) => (x * y) & M64],
    ['union (either operand)', tnumUnion, (x) => x],
  ];
  binary.forEach(([name, op, f], i) => {
    it(`${name}: op(x, y) ∈ tnumOp(a, b)`, () => {
      fc.assert(fc.property(arbMember, arbMember, ({ a, x }, { a: b, x: y }) => {
        const r = op(a, b);
        expect(r.value & r.mask).toBe(0n);
        expect(tnumContains(r, f(x, y))).toBe(true);
      }), opts(100 + i));
    });
  });

  it('neg: -x ∈ tnumNeg(a)', () => {
    fc.assert(fc.property(arbMember, ({ a, x }) => tnumContains(tnumNeg(a), -x & M64)), opts(110));
  });

  it('shifts by every amount', () => {
    fc.assert(fc.property(arbMember, fc.integer({ min: 0, max: 63 }), ({ a, x }, k) => {
      const s = BigInt(k);
      expect(tnumContains(tnumLshift(a, k), (x << s) & M64)).toBe(true);
      expect(tnumContains(tnumRshift(a, k), x >> s)).toBe(true);
      expect(tnumContains(tnumArshift(a, k, 64), (BigInt.asIntN(64, x) >> s) & M64)).toBe(true);
      const k32 = k & 31;
      const x32 = BigInt.asIntN(32, x & 0xffff_ffffn) >> BigInt(k32);
      expect(tnumContains(tnumArshift(a, k32, 32), x32 & 0xffff_ffffn)).toBe(true);
    }), opts(111));
  });

  it('cast, subregister and byte swaps', () => {
    fc.assert(fc.property(arbMember, fc.constantFrom(1, 2, 4, 8), ({ a, x }, size) => {
      const m = size === 8 ? M64 : (1n << BigInt(size * 8)) - 1n;
      expect(tnumContains(tnumCast(a, size), x & m)).toBe(true);
      expect(tnumContains(tnumSubreg(a), x & 0xffff_ffffn)).toBe(true);
      expect(tnumContains(tnumClearSubreg(a), x & ~0xffff_ffffn & M64)).toBe(true);
      const swap = (v: bigint, n: number): bigint => {
        let out = 0n;
        for (let i = 0; i < n; i++) out = (out << 8n) | ((v >> BigInt(8 * i)) & 0xffn);
        return out;
      };
      expect(tnumContains(tnumBswap16(a), swap(x, 2))).toBe(true);
      expect(tnumContains(tnumBswap32(a), swap(x, 4))).toBe(true);
      expect(tnumContains(tnumBswap64(a), swap(x, 8))).toBe(true);
    }), opts(112));
  });

  it('tnumRange(min, max) contains every value in [min, max]', () => {
    const arbRange = fc.tuple(u64(), u64(), u64()).map(([p, q, r]) => {
      const [min, max] = p <= q ? [p, q] : [q, p];
      return { min, max, x: min + (r % (max - min + 1n)) };
    });
    const arbSmallRange = fc.tuple(u64(), fc.bigInt({ min: 0n, max: 4095n }), fc.bigInt({ min: 0n, max: 4095n })).map(([base, d, r]) => {
      const min = base;
      const max = min + d > M64 ? M64 : min + d;
      return { min, max, x: min + (r % (max - min + 1n)) };
    });
    fc.assert(fc.property(fc.oneof(arbRange, arbSmallRange), ({ min, max, x }) => {
      const r = tnumRange(min, max);
      expect(tnumContains(r, min) && tnumContains(r, max) && tnumContains(r, x)).toBe(true);
    }), opts(113));
  });

  it('intersect keeps the common members; in and overlap agree with membership', () => {
    fc.assert(fc.property(arbMember, arbTnum, u64(), ({ a, x }, b0, r) => {
      // b: a tnum that also holds x (x's bits where b0 knows them, so they share x)
      const b = t((x & ~b0.mask) & M64, b0.mask);
      expect(tnumContains(b, x)).toBe(true);
      expect(tnumContains(tnumIntersect(a, b), x)).toBe(true);
      expect(tnumOverlap(a, b)).toBe(true);
      if (tnumIn(a, b)) expect(tnumContains(a, b.value | (r & b.mask))).toBe(true);
    }), opts(114));
  });

  it('step gives the smallest member above z (brute force over 10-bit tnums)', () => {
    const arb10 = fc.tuple(fc.integer({ min: 0, max: 1023 }), fc.integer({ min: 0, max: 1023 }), fc.integer({ min: 0, max: 1023 }));
    fc.assert(fc.property(arb10, ([v0, m, z]) => {
      const v = v0 & ~m;
      const a = t(BigInt(v), BigInt(m));
      const tmax = v | m;
      let expected: number;
      if (z >= tmax) expected = tmax;
      else if (z < v) expected = v;
      else {
        expected = -1;
        for (let x = z + 1; x <= tmax; x++) if ((x & ~m) === v) { expected = x; break; }
      }
      expect(tnumStep(a, BigInt(z))).toBe(BigInt(expected));
    }), opts(115));
  });
});

describe('tnum: the split (u32 halves) forms match the bigint forms', () => {
  const sp = (a: Tnum): SplitTnum => new SplitTnum().load(a);
  const out = (): SplitTnum => new SplitTnum();
  it('every operation, on random tnums', () => {
    fc.assert(fc.property(arbTnum, arbTnum, fc.integer({ min: 0, max: 63 }), (a, b, k) => {
      expect(splitAdd(out(), sp(a), sp(b)).toTnum()).toEqual(tnumAdd(a, b));
      expect(splitSub(out(), sp(a), sp(b)).toTnum()).toEqual(tnumSub(a, b));
      expect(splitAnd(out(), sp(a), sp(b)).toTnum()).toEqual(tnumAnd(a, b));
      expect(splitOr(out(), sp(a), sp(b)).toTnum()).toEqual(tnumOr(a, b));
      expect(splitXor(out(), sp(a), sp(b)).toTnum()).toEqual(tnumXor(a, b));
      expect(splitMul(out(), sp(a), sp(b)).toTnum()).toEqual(tnumMul(a, b));
      expect(splitIntersect(out(), sp(a), sp(b)).toTnum()).toEqual(tnumIntersect(a, b));
      expect(splitUnion(out(), sp(a), sp(b)).toTnum()).toEqual(tnumUnion(a, b));
      expect(splitLshift(out(), sp(a), k).toTnum()).toEqual(tnumLshift(a, k));
      expect(splitRshift(out(), sp(a), k).toTnum()).toEqual(tnumRshift(a, k));
      expect(splitArshift(out(), sp(a), k, 64).toTnum()).toEqual(tnumArshift(a, k, 64));
      expect(splitArshift(out(), sp(a), k & 31, 32).toTnum()).toEqual(tnumArshift(a, k & 31, 32));
      const [min, max] = a.value <= b.value ? [a.value, b.value] : [b.value, a.value];
      expect(splitRange(out(), hiOf(min), loOf(min), hiOf(max), loOf(max)).toTnum()).toEqual(tnumRange(min, max));
      splitStep(sp(a), hiOf(b.value), loOf(b.value));
      expect(join64(STEP.hi, STEP.lo)).toBe(tnumStep(a, b.value));
    }), opts(120));
  });

  it('halves round-trip for u64 and s64 values', () => {
    fc.assert(fc.property(u64(), (x) => {
      expect(join64(hiOf(x), loOf(x))).toBe(x);
      const s = BigInt.asIntN(64, x);
      expect(join64s(hiOf(s), loOf(s))).toBe(s);
    }), opts(121));
  });
});
