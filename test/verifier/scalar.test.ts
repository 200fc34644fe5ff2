/**
 * The scalar domain (offload/verifier/scalar.ts, scalar-alu.ts, scalar-branch.ts).
 *
 * 1. Hand cases: register states copied from the verifier log of the running
 *    kernel (Linux 6.18, log level 2) for small programs, reproduced through the
 *    API step by step — the program is quoted next to each case.
 * 2. Soundness properties (fast-check, fixed seeds, 2,000 runs each): abstract
 *    scalars built from constants, ranges, unknowns, loads and derived values;
 *    concrete members drawn from them (checked with scalarContains); the concrete
 *    result, computed with BigInt per RFC 9669 (32-bit results zero-extended,
 *    division by zero giving 0, modulo by zero keeping the dividend), must lie in
 *    the abstract result. branchTaken must never decide wrongly; refineBranch must
 *    keep every pair taking the edge.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  branchTaken, constScalar, constValue, isConst, makeScalar, refineBranch, refineBranchDetail, refineBranchSelf, scalarAlu,
  scalarAluFork,
  scalarContains, scalarEndian, scalarEquals, scalarFromLoad, scalarToString, scalarWithin, signExtend, syncBounds,
  truncate, unknownScalar, zext32, type AluOp, type CmpOp, type Scalar,
} from '../../offload/verifier/scalar.js';
import { scalarAluTracked } from '../../offload/verifier/scalar-alu.js';
import { tnumContains } from '../../offload/verifier/tnum.js';
import { assemble } from '../../xdp/asm/assembler.js';
import { encode } from '../../xdp/isa/insn.js';
import { progLoad } from '../../xdp/kernel/bpf-syscall.js';
import { kernelAvailable } from '../../xdp/kernel/kernel-oracle.js';

const M64 = (1n << 64n) - 1n;
const M32 = 0xffff_ffffn;
const RUNS = 2000;
const opts = (seed: number) => ({ seed, numRuns: RUNS });

const K = (v: bigint | number): Scalar => constScalar(BigInt(v));
const str = scalarToString;
const alu = (op: AluOp, d: Scalar, s: Scalar | bigint | number, w: 32 | 64 = 64): Scalar =>
  scalarAlu(op, d, typeof s === 'object' ? s : K(s), w);
/** The edge of `if a op b` (b a constant, sign-extended as a BPF_K immediate is). */
const edge = (op: CmpOp, a: Scalar, b: Scalar | number, taken: boolean, w: 32 | 64 = 64): [Scalar, Scalar] => {
  const r = refineBranch(op, a, typeof b === 'number' ? K(b) : b, w, taken);
  if (!r) throw new Error(`edge ${op} ${taken} is impossible`);
  return r;
};

// ---------------------------------------------------------------- kernel log cases

describe('scalar: states as the kernel (6.18) logs them', () => {
  const U = unknownScalar();

  it('r1 &= 0xff; if r2 > 10; r4 <<= 32; r4 s>>= 32; w5 = w0; w5 += 5', () => {
    // 2: (57) r1 &= 255   ; R1=scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))
    expect(str(alu('and', U, 0xff))).toBe('scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))');
    // 4: (25) if r2 > 0xa goto pc+1 ; fall-through R2=scalar(...umax=10...), jump R2=scalar(umin=11)
    const [le10] = edge('jgt', U, 10, false);
    const [gt10] = edge('jgt', U, 10, true);
    expect(str(le10)).toBe('scalar(smin=smin32=0,smax=umax=smax32=umax32=10,var_off=(0x0; 0xf))');
    expect(str(gt10)).toBe('scalar(umin=11)');
    // 7: (67) r4 <<= 32 ; 8: (c7) r4 s>>= 32  — the sign-extension idiom keeps the bounds
    const shl = alu('lsh', le10, 32);
    expect(str(shl)).toBe('scalar(smin=smin32=0,smax=umax=0xa00000000,smax32=umax32=0,var_off=(0x0; 0xf00000000))');
    expect(str(alu('arsh', shl, 32))).toBe('scalar(smin=smin32=0,smax=umax=smax32=umax32=10,var_off=(0x0; 0xf))');
    const shl2 = alu('lsh', gt10, 32);
    expect(str(shl2)).toBe(
      'scalar(smax=0x7fffffff00000000,umax=0xffffffff00000000,smin32=0,smax32=umax32=0,var_off=(0x0; 0xffffffff00000000))');
    expect(str(alu('arsh', shl2, 32))).toBe('scalar(smin=0xffffffff80000000,smax=0x7fffffff)');
    // 9: (bc) w5 = w0 ; 10: (04) w5 += 5 — 32-bit ops zero-extend
    expect(str(alu('mov', U, le10, 32))).toBe('scalar(smin=smin32=0,smax=umax=smax32=umax32=10,var_off=(0x0; 0xf))');
    expect(str(alu('add', alu('mov', U, le10, 32), 5, 32)))
      .toBe('scalar(smin=umin=smin32=umin32=5,smax=umax=smax32=umax32=15,var_off=(0x0; 0xf))');
    const w5 = alu('mov', U, gt10, 32);
    expect(str(w5)).toBe('scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))');
    expect(str(alu('add', w5, 5, 32))).toBe('scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))');
  });

  it('constants print in decimal within s16, else as hex', () => {
    expect(str(K(32767))).toBe('32767');
    expect(str(K(32768))).toBe('0x8000');
    expect(str(K(-1))).toBe('-1');
    expect(str(K(-32768))).toBe('-32768');
    expect(str(K(-32769))).toBe('0xffffffffffff7fff');
    expect(str(K(0xffff_ffffn))).toBe('0xffffffff');
    expect(str(alu('mov', U, K(-1), 32))).toBe('0xffffffff'); // w7 = -1
    expect(str(K(1n << 63n))).toBe('0x8000000000000000');
  });

  it('signed compares against negative immediates, then a 32-bit view', () => {
    // 12: (65) if r1 s> 0xffff63c0 goto pc+1  (imm -40000)
    const [le] = edge('jsgt', U, -40000, false);
    const [gt] = edge('jsgt', U, -40000, true);
    expect(str(le)).toBe(
      'scalar(smax=0xffffffffffff63c0,umin=0x8000000000000000,umax=0xffffffffffff63c0,var_off=(0x8000000000000000; 0x7fffffffffffffff))');
    expect(str(gt)).toBe('scalar(smin=0xffffffffffff63c1)');
    // 15: (c5) if r2 s< 0xfffffffb goto pc+1  (imm -5)
    expect(str(edge('jslt', gt, -5, false)[0])).toBe('scalar(smin=-5)');
    const lt = edge('jslt', gt, -5, true)[0];
    expect(str(lt)).toBe('scalar(smin=0xffffffffffff63c1,smax=smax32=-6,umin=0xffffffffffff63c1,umax=0xfffffffffffffffa,' +
      'smin32=umin32=0xffff63c1,umax32=0xfffffffa,var_off=(0xffffffffffff0000; 0xffff))');
    // 17: (bc) w3 = w0
    const w3 = alu('mov', U, lt, 32);
    expect(str(w3)).toBe('scalar(smin=umin=smin32=umin32=0xffff63c1,smax=umax=umax32=0xfffffffa,smax32=-6,var_off=(0xffff0000; 0xffff))');
    // 18: (c6) if w3 s< 0xffff63c0 goto pc+1 — the kernel knows it falls through
    expect(branchTaken('jslt', w3, K(-40000), 32)).toBe(0);
  });

  it('add with wrapping, signed multiply, negation', () => {
    // r6 = (rand & 0x1f) + 0x7ffffffffffffff0 + 0x8000000000000100: every sum wraps, the range survives
    const r6 = alu('add', alu('and', U, 0x1f), K(0x7fff_ffff_ffff_fff0n));
    expect(str(r6)).toBe('scalar(umin=0x7ffffffffffffff0,umax=0x800000000000000f,smin32=-16,smax32=15)');
    expect(str(alu('add', r6, K(0x8000_0000_0000_0100n))))
      .toBe('scalar(smin=umin=smin32=umin32=240,smax=umax=smax32=umax32=271,var_off=(0x0; 0x1ff))');
    // r7 = (rand & 3) - 2 ; r8 = 5 ; r8 *= r7
    const r7 = alu('sub', alu('and', U, 3), 2);
    expect(str(r7)).toBe('scalar(smin=smin32=-2,smax=smax32=1)');
    expect(str(alu('mul', K(5), r7))).toBe('scalar(smin=smin32=-10,smax=smax32=5)');
    // r9 = -(rand & 7)
    expect(str(scalarAlu('neg', alu('and', U, 7), U, 64))).toBe('scalar(smin=smin32=-7,smax=smax32=0)');
  });

  it('equality against known bits, forks, jset, jne', () => {
    const f0 = alu('and', U, 0xf0);
    expect(branchTaken('jeq', f0, K(0x11), 64)).toBe(0); // tnums disagree on bit 0
    expect(branchTaken('jeq', f0, K(0x10), 64)).toBe(-1);
    expect(str(edge('jeq', f0, 0x10, true)[0])).toBe('16');
    expect(str(edge('jeq', f0, 0x10, false)[0])).toBe(str(f0));
    // r7 = (rand & 1) - 1 is -1 or 0: `r7 &= 5` forks into the two constants
    const m = alu('sub', alu('and', U, 1), 1);
    const fork = scalarAluFork('and', m, K(5), 64);
    expect(fork && fork.map(str)).toEqual(['0', '-1']);
    expect(str(alu('and', fork![1], 5))).toBe('5');
    expect(scalarAluFork('and', alu('and', U, 3), K(5), 64)).toBeUndefined();
    // 18: (45) if r9 & 0x3 goto pc+1 — falling through clears both bits
    const nset = edge('jset', U, 3, false)[0];
    expect(str(nset)).toBe('scalar(smax=0x7ffffffffffffffc,umax=0xfffffffffffffffc,smax32=0x7ffffffc,umax32=0xfffffffc,' +
      'var_off=(0x0; 0xfffffffffffffffc))');
    // 20: (55) if r9 != 0x0 goto pc+1
    expect(str(edge('jne', nset, 0, false)[0])).toBe('0');
    expect(str(edge('jne', nset, 0, true)[0])).toBe('scalar(smax=0x7ffffffffffffffc,umin=1,umax=0xfffffffffffffffc,' +
      'smax32=0x7ffffffc,umax32=0xfffffffc,var_off=(0x0; 0xfffffffffffffffc))');
  });

  it('ranges crossing the sign boundary met by unsigned ones (64 and 32 bits)', () => {
    // 3: if r6 < 0x3 goto ; 4: if r6 s> 0x1 goto  -> only the negative half remains
    const ge3 = edge('jlt', U, 3, false)[0];
    expect(str(ge3)).toBe('scalar(umin=3)');
    expect(str(edge('jsgt', ge3, 1, false)[0]))
      .toBe('scalar(smax=-1,umin=0x8000000000000000,var_off=(0x8000000000000000; 0x7fffffffffffffff))');
    // 2: w7 = w0 ; 5: if w7 < 0x3 goto ; 6: if w7 s> 0x1 goto
    const w7 = alu('mov', U, U, 32);
    const ge3w = edge('jlt', w7, 3, false, 32)[0];
    expect(str(ge3w)).toBe('scalar(smin=umin=umin32=3,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))');
    expect(str(edge('jsgt', ge3w, 1, false, 32)[0]))
      .toBe('scalar(smin=umin=umin32=0x80000000,smax=umax=0xffffffff,smax32=-1,var_off=(0x80000000; 0x7fffffff))');
  });

  it('a crossing signed range met by a low unsigned one (64 and 32 bits)', () => {
    // 3: if r6 s> 0xa ; 4: if r6 s< -3 ; 5: if r6 > 0x64  (all falling through)
    const s64 = edge('jslt', edge('jsgt', U, 10, false)[0], -3, false)[0];
    expect(str(s64)).toBe('scalar(smin=smin32=-3,smax=smax32=10)');
    expect(str(edge('jgt', s64, 100, false)[0])).toBe('scalar(smin=smin32=0,smax=umax=smax32=umax32=10,var_off=(0x0; 0xf))');
    // 6: if w7 s> 0xa ; 7: if w7 s< -3 ; 8: if w7 > 0x64
    const w7 = alu('mov', U, U, 32);
    const s32 = edge('jslt', edge('jsgt', w7, 10, false, 32)[0], -3, false, 32)[0];
    expect(str(s32)).toBe('scalar(smin=0,smax=umax=0xffffffff,smin32=-3,smax32=10,var_off=(0x0; 0xffffffff))');
    expect(str(edge('jgt', s32, 100, false, 32)[0])).toBe('scalar(smin=smin32=0,smax=umax=smax32=umax32=10,var_off=(0x0; 0xf))');
    // 5: if r6 > r2 (0x8000000000000005) ; 6: if r6 s> 0xa ; 7: if r6 s< -3 — the u64 range crosses too
    const u = edge('jsgt', edge('jgt', U, K(0x8000_0000_0000_0005n), false)[0], 10, false)[0];
    expect(str(u)).toBe('scalar(smax=10,umax=0x8000000000000005)');
    expect(str(edge('jslt', u, -3, false)[0])).toBe('scalar(smin=smin32=0,smax=umax=smax32=umax32=10,var_off=(0x0; 0xf))');
    // 8: if w7 > 0x80000005 ; 9: if w7 s> 0xa ; 10: if w7 s< -3
    const u32 = edge('jsgt', edge('jgt', w7, -2147483643, false, 32)[0], 10, false, 32)[0];
    expect(str(u32)).toBe('scalar(smin=0,smax=umax=umax32=0x80000005,smax32=10,var_off=(0x0; 0xffffffff))');
    expect(str(edge('jslt', u32, -3, false, 32)[0])).toBe('scalar(smin=smin32=0,smax=umax=smax32=umax32=10,var_off=(0x0; 0xf))');
  });

  it('two signed compares in a row', () => {
    // 12: if r8 s> 0x5 goto  ; 13: if r8 s> 0xfffffff6 goto
    expect(str(edge('jsgt', U, 5, true)[0])).toBe('scalar(smin=umin=6,umax=0x7fffffffffffffff,var_off=(0x0; 0x7fffffffffffffff))');
    const le5 = edge('jsgt', U, 5, false)[0];
    expect(str(le5)).toBe('scalar(smax=5)');
    expect(str(edge('jsgt', le5, -10, false)[0])).toBe(
      'scalar(smax=-10,umin=0x8000000000000000,umax=0xfffffffffffffff6,var_off=(0x8000000000000000; 0x7fffffffffffffff))');
    expect(str(edge('jsgt', le5, -10, true)[0])).toBe('scalar(smin=smin32=-9,smax=smax32=5)');
  });

  it('division is not tracked, byte swaps are, shifts by >= width are not', () => {
    const b = alu('and', U, 0xff);
    expect(str(alu('div', b, 3, 32))).toBe('scalar()'); // 4: (34) w7 /= 3 — all 64 bits unknown
    expect(str(alu('mod', b, b, 32))).toBe('scalar()');
    expect(str(scalarEndian(b, 'be', 16))).toBe('scalar(smin=smin32=0,smax=umax=smax32=umax32=0xff00,var_off=(0x0; 0xff00))');
    expect(str(scalarEndian(b, 'bswap', 16))).toBe(str(scalarEndian(b, 'be', 16)));
    expect(str(scalarEndian(b, 'le', 16))).toBe(str(b));
    expect(str(alu('lsh', b, 40, 32))).toBe('scalar()'); // 13: (6c) w2 <<= w3 (w3 = 40)
    expect(str(alu('lsh', b, 2))).toBe('scalar(smin=smin32=0,smax=umax=smax32=umax32=1020,var_off=(0x0; 0x3fc))');
    expect(str(alu('lsh', b, alu('and', U, 3)))).toBe('scalar()'); // unknown amount
  });

  it('loads of unknown memory', () => {
    expect(str(scalarFromLoad(4, false))).toBe('scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))');
    expect(str(scalarFromLoad(1, false))).toBe('scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))');
    expect(str(scalarFromLoad(2, false))).toBe('scalar(smin=smin32=0,smax=umax=smax32=umax32=0xffff,var_off=(0x0; 0xffff))');
    expect(str(scalarFromLoad(8, false))).toBe('scalar()');
    expect(str(scalarFromLoad(1, true))).toBe('scalar(smin=smin32=-128,smax=smax32=127)');
    expect(str(scalarFromLoad(2, true))).toBe('scalar(smin=smin32=-32768,smax=smax32=32767)');
    expect(str(scalarFromLoad(4, true))).toBe('scalar(smin=0xffffffff80000000,smax=0x7fffffff)');
  });

  it('a tnum meeting the range in one value makes a constant (tnum_step)', () => {
    // r0 |= 3584 ; r0 &= 3840 ; if r0 == 0xe00 goto
    const or = alu('or', U, 3584);
    expect(str(or)).toBe('scalar(smin=0x8000000000000e00,umin=umin32=3584,smin32=0x80000e00,var_off=(0xe00; 0xfffffffffffff1ff))');
    const and = alu('and', or, 3840);
    expect(str(and)).toBe('scalar(smin=umin=smin32=umin32=3584,smax=umax=smax32=umax32=3840,var_off=(0xe00; 0x100))');
    expect(str(edge('jeq', and, 0xe00, false)[0])).toBe('3840');
    expect(str(edge('jeq', and, 0xe00, true)[0])).toBe('3584');
    // r6 &= 0x20000 ; if r6 > 3 goto
    const bit = alu('and', U, 0x20000);
    expect(str(edge('jgt', bit, 3, true)[0])).toBe('0x20000');
    expect(str(edge('jgt', bit, 3, false)[0])).toBe('0');
  });

  it('a register compared with itself is refined as if aliased (6.18 has no special case)', () => {
    // 2: r6 &= 7 ; 3: (3d) if r6 >= r6 goto pc+1  ; R6=scalar(...umin=1...umax=6...) on the fall-through
    const r6 = alu('and', U, 7);
    expect(branchTaken('jge', r6, r6, 64)).toBe(-1);
    expect(str(refineBranchSelf('jge', r6, 64, false)!)).toBe('scalar(smin=umin=smin32=umin32=1,smax=umax=smax32=umax32=6,var_off=(0x0; 0x7))');
    expect(refineBranchSelf('jge', r6, 64, true)).toEqual(r6);
    // 7: (2e) if w6 > w6 goto pc+1  — the jump edge is the narrowed one
    expect(str(refineBranchSelf('jgt', r6, 32, true)!)).toBe('scalar(smin=umin=smin32=umin32=1,smax=umax=smax32=umax32=6,var_off=(0x0; 0x7))');
    expect(refineBranchSelf('jset', r6, 64, false)).toEqual(r6);
    expect(refineBranchSelf('jeq', K(3), 64, false)).toBeUndefined();
  });

  it('a dead edge the kernel fails to predict is still explored, as the kernel does', () => {
    // r9: multiples of 2^37 from 255 up; r8 <= 0xffffffff: "if r9 < r8" cannot jump
    const r9 = makeScalar({ smin: 255n, umin: 255n, smax: 0x7fff_ffe0_0000_0000n, umax: 0x7fff_ffe0_0000_0000n,
      s32min: 0, s32max: 0, u32max: 0, var: { value: 0n, mask: 0x7fff_ffe0_0000_0000n } });
    const r8 = scalarFromLoad(4, false);
    expect(branchTaken('jlt', r9, r8, 64)).toBe(-1);
    const d = refineBranchDetail('jlt', r9, r8, 64, true);
    expect(d.invariantViolation).toBe(true); // "verifier bug: REG INVARIANTS VIOLATION (true_reg1)"
    expect(d.regs!.map(str)).toEqual(['0', 'scalar(smin=umin=umin32=256,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))']);
    expect(refineBranchDetail('jlt', r9, r8, 64, false).invariantViolation).toBe(false);
  });
});

// ---------------------------------------------------------------- other hand cases

describe('scalar: construction, sizes, pruning', () => {
  it('constants', () => {
    const c = K(-2);
    expect(isConst(c)).toBe(true);
    expect(constValue(c)).toBe(M64 - 1n);
    expect(c).toEqual({ var: { value: M64 - 1n, mask: 0n }, smin: -2n, smax: -2n, umin: M64 - 1n, umax: M64 - 1n,
      s32min: -2, s32max: -2, u32min: 0xffff_fffe, u32max: 0xffff_fffe });
    expect(() => constValue(unknownScalar())).toThrow(RangeError);
  });

  it('makeScalar syncs a partial description', () => {
    expect(str(makeScalar({ umax: 255n }))).toBe('scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))');
    expect(str(makeScalar({ smin: -3n, smax: -1n })))
      .toBe('scalar(smin=smin32=-3,smax=smax32=-1,umin=0xfffffffffffffffd,umin32=0xfffffffd,var_off=(0xfffffffffffffffc; 0x3))');
    expect(str(syncBounds(unknownScalar()))).toBe('scalar()');
  });

  it('zero extension, truncation, sign extension (kernel log cases)', () => {
    // 2: if r6 s> -1 goto ; 3: if r6 s< -3 goto  -> r6 in [-3, -1]
    const neg = edge('jslt', edge('jsgt', unknownScalar(), -1, false)[0], -3, false)[0];
    expect(str(neg)).toBe(str(makeScalar({ smin: -3n, smax: -1n })));
    // 4: (bc) w7 = w6
    expect(str(zext32(neg))).toBe('scalar(smin=umin=umin32=0xfffffffd,smax=umax=0xffffffff,smin32=-3,smax32=-1,var_off=(0xfffffffc; 0x3))');
    expect(str(alu('mov', unknownScalar(), neg, 32))).toBe(str(zext32(neg)));
    // 6: (57) r8 &= 255 ; 7: (bf) r9 = (s8)r8 ; 8: (bc) w1 = (s8)w8
    const r8 = alu('and', neg, 0xff);
    expect(str(r8)).toBe('scalar(smin=umin=smin32=umin32=252,smax=umax=smax32=umax32=255,var_off=(0xfc; 0x3))');
    expect(str(signExtend(r8, 8, 64))).toBe(
      'scalar(smin=smin32=-4,smax=smax32=-1,umin=0xfffffffffffffffc,umin32=0xfffffffc,var_off=(0xfffffffffffffffc; 0x3))');
    expect(str(signExtend(r8, 8, 32))).toBe(
      'scalar(smin=umin=umin32=0xfffffffc,smax=umax=0xffffffff,smin32=-4,smax32=-1,var_off=(0xfffffffc; 0x3))');
    // coerce_reg_to_size keeps a range whose upper bits agree
    expect(str(truncate(neg, 1))).toBe('scalar(smin=umin=smin32=umin32=253,smax=umax=smax32=umax32=255,var_off=(0xfc; 0x3))');
    expect(truncate(neg, 8)).toBe(neg);
    expect(str(signExtend(K(0x80), 8, 64))).toBe('-128');
    expect(str(signExtend(K(0x80), 8, 32))).toBe('0xffffff80');
    expect(str(signExtend(scalarFromLoad(2, false), 16, 64))).toBe('scalar(smin=smin32=-32768,smax=smax32=32767)');
  });

  it('sign extension of a value already in the narrow range keeps its bounds (Linux 6.18.y log cases)', () => {
    // r7 in s64 [-3, 5]: (bf) r8 = (s8)r7 -> R8=scalar(smin=smin32=-3,smax=smax32=5); (s32) the same
    const small = edge('jslt', edge('jsgt', unknownScalar(), 5, false)[0], -3, false)[0];
    expect(str(signExtend(small, 8, 64))).toBe('scalar(smin=smin32=-3,smax=smax32=5)');
    expect(str(signExtend(small, 32, 64))).toBe('scalar(smin=smin32=-3,smax=smax32=5)');
    // only the subregister known: jsgt32/jslt32 then (s8) -> the same range
    const small32 = edge('jslt', edge('jsgt', unknownScalar(), 5, false, 32)[0], -3, false, 32)[0];
    expect(str(signExtend(small32, 8, 64))).toBe('scalar(smin=smin32=-3,smax=smax32=5)');
    // r7 &= -2; r8 = (s32)r7 -> the s32 range, and the u32 bound through the 64-bit one
    expect(str(signExtend(alu('and', unknownScalar(), -2), 32, 64))).toBe(
      'scalar(smin=0xffffffff80000000,smax=smax32=0x7ffffffe,umax=0xfffffffffffffffe,umax32=0xfffffffe)');
    // [255, 256] does not fit s8: the type's whole range; w8 = (s16)w7 of s32 [-3, 5] is not narrowed either
    const wide = edge('jgt', edge('jlt', unknownScalar(), 0xff, false)[0], 0x100, false)[0];
    expect(str(signExtend(wide, 8, 64))).toBe('scalar(smin=smin32=-128,smax=smax32=127)');
    expect(str(signExtend(small, 16, 32))).toBe(
      'scalar(smin=0,smax=umax=0xffffffff,smin32=-32768,smax32=32767,var_off=(0x0; 0xffffffff))');
  });

  it('scalarWithin: range_within and tnum_in', () => {
    const wide = alu('and', unknownScalar(), 0xff);
    const narrow = alu('and', unknownScalar(), 0x0f);
    expect(scalarWithin(wide, narrow)).toBe(true);
    expect(scalarWithin(narrow, wide)).toBe(false);
    expect(scalarWithin(unknownScalar(), wide)).toBe(true);
    expect(scalarWithin(wide, K(300))).toBe(false);
    expect(scalarWithin(makeScalar({ umin: 1n, umax: 3n }), K(2))).toBe(true);
    expect(scalarEquals(wide, alu('and', unknownScalar(), 0xff))).toBe(true);
    expect(scalarEquals(wide, narrow)).toBe(false);
  });
});

// ---------------------------------------------------------------- concrete semantics (RFC 9669)

const sx = (v: bigint, bits: 32 | 64): bigint => BigInt.asIntN(bits, v);

/** `x op= y` on a concrete register per RFC 9669; 32-bit results are zero-extended. */
function concreteAlu(op: AluOp, x: bigint, y: bigint, w: 32 | 64): bigint {
  const m = w === 32 ? M32 : M64;
  const a = x & m;
  const b = y & m;
  switch (op) {
    case 'add': return (a + b) & m;
    case 'sub': return (a - b) & m;
    case 'mul': return (a * b) & m;
    case 'div': return b === 0n ? 0n : a / b;
    case 'sdiv': return b === 0n ? 0n : (sx(a, w) / sx(b, w)) & m; // S_MIN / -1 wraps to S_MIN
    case 'mod': return b === 0n ? a : a % b;
    case 'smod': return b === 0n ? a : (sx(a, w) % sx(b, w)) & m;
    case 'or': return a | b;
    case 'and': return a & b;
    case 'xor': return a ^ b;
    case 'lsh': return (a << (b & BigInt(w - 1))) & m;
    case 'rsh': return a >> (b & BigInt(w - 1));
    case 'arsh': return (sx(a, w) >> (b & BigInt(w - 1))) & m;
    case 'neg': return -a & m;
    case 'mov': return b;
    case 'end': return a; // scalarAlu gives unknown: anything is contained
  }
}

function concreteCmp(op: CmpOp, x: bigint, y: bigint, w: 32 | 64): boolean {
  const m = w === 32 ? M32 : M64;
  const a = x & m;
  const b = y & m;
  switch (op) {
    case 'jeq': return a === b;
    case 'jne': return a !== b;
    case 'jgt': return a > b;
    case 'jge': return a >= b;
    case 'jlt': return a < b;
    case 'jle': return a <= b;
    case 'jsgt': return sx(a, w) > sx(b, w);
    case 'jsge': return sx(a, w) >= sx(b, w);
    case 'jslt': return sx(a, w) < sx(b, w);
    case 'jsle': return sx(a, w) <= sx(b, w);
    case 'jset': return (a & b) !== 0n;
  }
}

const swapBytes = (x: bigint, n: number): bigint => {
  let out = 0n;
  for (let i = 0; i < n; i++) out = (out << 8n) | ((x >> BigInt(8 * i)) & 0xffn);
  return out;
};

// ---------------------------------------------------------------- generators

/** u64 values near the interesting edges (0, 2^31, 2^32, 2^63, 2^64) and plain random ones. */
const arbU64: fc.Arbitrary<bigint> = fc.oneof(
  fc.bigInt({ min: 0n, max: M64 }),
  fc.bigInt({ min: -64n, max: 300n }).map((v) => v & M64),
  fc.tuple(fc.constantFrom(0x8000_0000n, 0x1_0000_0000n, 1n << 63n, 0x7fff_ffffn, 0xffff_ffff_8000_0000n, 0x10000n, 0xffn),
    fc.bigInt({ min: -3n, max: 3n })).map(([b, d]) => (b + d) & M64),
  fc.tuple(fc.bigInt({ min: 0n, max: 0xffffn }), fc.integer({ min: 0, max: 48 })).map(([v, s]) => (v << BigInt(s)) & M64),
);

interface Abs { readonly s: Scalar; readonly members: readonly bigint[] }

const minMax = (vs: readonly bigint[], conv: (v: bigint) => bigint | number): [bigint | number, bigint | number] => {
  const xs = vs.map(conv);
  let lo = xs[0]!;
  let hi = xs[0]!;
  for (const x of xs) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return [lo, hi];
};

/** The tightest scalar of each view holding all the values, synced. */
function hull(vs: readonly bigint[]): Scalar {
  let value = vs[0]!;
  let mask = 0n;
  for (const v of vs) {
    mask |= value ^ v;
    value &= v;
  }
  value &= ~mask;
  const [umin, umax] = minMax(vs, (v) => v) as [bigint, bigint];
  const [smin, smax] = minMax(vs, (v) => sx(v, 64)) as [bigint, bigint];
  const [u32min, u32max] = minMax(vs, (v) => Number(v & M32)) as [number, number];
  const [s32min, s32max] = minMax(vs, (v) => Number(sx(v & M32, 32))) as [number, number];
  return syncBounds({ var: { value, mask }, umin, umax, smin, smax, u32min, u32max, s32min, s32max });
}

const arbBase: fc.Arbitrary<Abs> = fc.oneof(
  arbU64.map((v) => ({ s: constScalar(v), members: [v] })),
  fc.array(arbU64, { minLength: 1, maxLength: 4 }).map((vs) => ({ s: hull(vs), members: vs })),
  fc.tuple(arbU64, arbU64).map(([a, b]) => {
    const [lo, hi] = a <= b ? [a, b] : [b, a];
    return { s: makeScalar({ umin: lo, umax: hi }), members: [lo, hi] };
  }),
  fc.tuple(arbU64, arbU64).map(([a, b]) => {
    const [lo, hi] = sx(a, 64) <= sx(b, 64) ? [a, b] : [b, a];
    return { s: makeScalar({ smin: sx(lo, 64), smax: sx(hi, 64) }), members: [lo, hi] };
  }),
  fc.tuple(arbU64, arbU64, arbU64).map(([a, b, high]) => {
    const [lo, hi] = (a & M32) <= (b & M32) ? [a & M32, b & M32] : [b & M32, a & M32];
    const up = high & ~M32;
    return { s: makeScalar({ u32min: Number(lo), u32max: Number(hi) }), members: [lo | up, hi | up] };
  }),
  arbU64.map((v) => ({ s: unknownScalar(), members: [v] })),
  fc.tuple(fc.constantFrom(1, 2, 4, 8) as fc.Arbitrary<1 | 2 | 4 | 8>, fc.boolean(), arbU64).map(([size, signed, v]) => {
    const sz = size === 8 ? 8 : size;
    const bits = BigInt(sz * 8);
    const m = (1n << bits) - 1n;
    const loaded = signed && sz !== 8 ? BigInt.asIntN(Number(bits), v & m) & M64 : v & m;
    return { s: scalarFromLoad(sz, signed && sz !== 8), members: [loaded] };
  }),
);

const ALU_DERIVE: AluOp[] = ['add', 'sub', 'mul', 'and', 'or', 'xor', 'lsh', 'rsh', 'arsh', 'neg'];
const CMPS: CmpOp[] = ['jeq', 'jne', 'jgt', 'jge', 'jlt', 'jle', 'jsgt', 'jsge', 'jslt', 'jsle', 'jset'];

/** Scalars the domain itself produces: an ALU op or a branch edge applied to base ones. */
const arbDerived: fc.Arbitrary<Abs> = fc.tuple(arbBase, arbBase, fc.constantFrom(...ALU_DERIVE),
  fc.constantFrom(32, 64) as fc.Arbitrary<32 | 64>, fc.constantFrom(...CMPS), fc.boolean(), fc.nat(),
).map(([a, b, op, w, cmp, useCmp, pick]) => {
  if (useCmp) {
    const x = a.members[pick % a.members.length]!;
    const y = b.members[pick % b.members.length]!;
    const taken = concreteCmp(cmp, x, y, w);
    const r = refineBranch(cmp, a.s, b.s, w, taken);
    if (r) return { s: r[0], members: [x] };
    return a;
  }
  const isShift = op === 'lsh' || op === 'rsh' || op === 'arsh';
  const src = isShift ? { s: constScalar(BigInt(pick % w)), members: [BigInt(pick % w)] } : b;
  const out = a.members.flatMap((x) => src.members.map((y) => concreteAlu(op, x, y, w)));
  return { s: scalarAlu(op, a.s, src.s, w), members: out };
});

/** An abstract scalar and one concrete member of it (drawn from its seeds or from its tnum, checked). */
const arbAbsMember: fc.Arbitrary<{ s: Scalar; x: bigint }> = fc.tuple(fc.oneof(arbBase, arbDerived), fc.nat(), arbU64)
  .map(([abs, i, r]) => {
    const candidate = abs.s.var.value | (r & abs.s.var.mask);
    const x = scalarContains(abs.s, candidate) ? candidate : abs.members[i % abs.members.length]!;
    return { s: abs.s, x };
  });

/** Every drawn member must really be in its scalar (else the generator, or the domain, is wrong). */
function member(p: { s: Scalar; x: bigint }): { s: Scalar; x: bigint } {
  if (!scalarContains(p.s, p.x)) throw new Error(`drawn value ${p.x} is not in ${str(p.s)}`);
  return p;
}

// ---------------------------------------------------------------- properties

describe('scalar: generators draw real members', () => {
  it('scalarContains holds for every drawn value', () => {
    fc.assert(fc.property(arbAbsMember, (p) => {
      expect(scalarContains(p.s, p.x)).toBe(true);
      expect(tnumContains(p.s.var, p.x)).toBe(true);
    }), opts(200));
  });
});

describe('scalar: ALU soundness (fast-check)', () => {
  const ops: AluOp[] = ['add', 'sub', 'mul', 'div', 'sdiv', 'mod', 'smod', 'or', 'and', 'xor', 'lsh', 'rsh', 'arsh', 'neg', 'mov', 'end'];
  let seed = 300;
  for (const op of ops) {
    for (const w of [64, 32] as const) {
      const s = seed++;
      it(`${op} (${w}-bit): the concrete result lies in scalarAlu's`, () => {
        const isShift = op === 'lsh' || op === 'rsh' || op === 'arsh';
        const arbSrc = isShift
          ? fc.oneof(arbAbsMember, fc.integer({ min: 0, max: w - 1 }).map((k) => ({ s: K(k), x: BigInt(k) })))
          : arbAbsMember;
        fc.assert(fc.property(arbAbsMember, arbSrc, (d, src) => {
          member(d);
          member(src);
          const r = scalarAlu(op, d.s, src.s, w);
          const expected = concreteAlu(op, d.x, src.x, w);
          if (!scalarContains(r, expected)) {
            throw new Error(`${str(d.s)} ${op}${w} ${str(src.s)}: ${d.x} ${op} ${src.x} = ${expected} not in ${str(r)}`);
          }
          // The kernel may fork first: each fork branch covers its values.
          const fork = scalarAluFork(op, d.s, src.s, w);
          if (fork) {
            const branch = fork.find((f) => scalarContains(f, d.x));
            expect(branch).toBeDefined();
            expect(scalarContains(scalarAlu(op, branch!, src.s, w), expected)).toBe(true);
          }
        }), opts(s));
      });
    }
  }

  it('byte swaps (scalarEndian) against the concrete swap', () => {
    fc.assert(fc.property(arbAbsMember, fc.constantFrom('le', 'be', 'bswap') as fc.Arbitrary<'le' | 'be' | 'bswap'>,
      fc.constantFrom(16, 32, 64) as fc.Arbitrary<16 | 32 | 64>, (d, kind, bits) => {
        member(d);
        const m = bits === 64 ? M64 : (1n << BigInt(bits)) - 1n;
        const expected = kind === 'le' ? d.x & m : swapBytes(d.x, bits / 8);
        expect(scalarContains(scalarEndian(d.s, kind, bits), expected)).toBe(true);
      }), opts(340));
  });

  it('constants fold to what the step-by-step computation gives', () => {
    const tracked: AluOp[] = ['add', 'sub', 'mul', 'and', 'or', 'xor', 'lsh', 'rsh', 'arsh', 'neg'];
    fc.assert(fc.property(arbU64, arbU64, fc.constantFrom(...tracked), fc.constantFrom(32, 64) as fc.Arbitrary<32 | 64>,
      (x, y0, op, w) => {
        const y = op === 'lsh' || op === 'rsh' || op === 'arsh' ? y0 % BigInt(w) : y0;
        const folded = scalarAlu(op, K(x), K(y), w);
        expect(scalarEquals(folded, scalarAluTracked(op, K(x), K(y), w))).toBe(true);
        expect(constValue(folded)).toBe(concreteAlu(op, x, y, w));
      }), opts(341));
  });
});

describe('scalar: branches (fast-check)', () => {
  let seed = 400;
  for (const op of CMPS) {
    for (const w of [64, 32] as const) {
      const s = seed++;
      it(`${op} (${w}-bit): branchTaken is never wrong, refineBranch keeps every pair`, () => {
        fc.assert(fc.property(arbAbsMember, arbAbsMember, (a, b) => {
          member(a);
          member(b);
          const truth = concreteCmp(op, a.x, b.x, w);
          const pred = branchTaken(op, a.s, b.s, w);
          if (pred !== -1) expect(pred === 1).toBe(truth);
          const e = refineBranch(op, a.s, b.s, w, truth);
          if (!e) throw new Error(`${str(a.s)} ${op}${w} ${str(b.s)}: edge ${truth} refused, but ${a.x}, ${b.x} take it`);
          if (!scalarContains(e[0], a.x) || !scalarContains(e[1], b.x)) {
            throw new Error(`${str(a.s)} ${op}${w} ${str(b.s)} edge ${truth}: ${a.x}, ${b.x} lost in ${str(e[0])}, ${str(e[1])}`);
          }
        }), opts(s));
      });
    }
  }
});

describe('scalar: size changes and pruning (fast-check)', () => {
  it('syncBounds, zext32, truncate keep their members', () => {
    fc.assert(fc.property(arbAbsMember, fc.constantFrom(1, 2, 4, 8) as fc.Arbitrary<1 | 2 | 4 | 8>, (d, size) => {
      member(d);
      expect(scalarContains(syncBounds(d.s), d.x)).toBe(true);
      expect(scalarContains(zext32(d.s), d.x & M32)).toBe(true);
      const m = size === 8 ? M64 : (1n << BigInt(size * 8)) - 1n;
      expect(scalarContains(truncate(d.s, size), d.x & m)).toBe(true);
    }), opts(500));
  });

  it('signExtend (movsx) keeps its members', () => {
    fc.assert(fc.property(arbAbsMember, fc.constantFrom(8, 16, 32) as fc.Arbitrary<8 | 16 | 32>,
      fc.constantFrom(32, 64) as fc.Arbitrary<32 | 64>, (d, bits, w) => {
        member(d);
        const ext = BigInt.asIntN(bits, d.x) & (w === 32 ? M32 : M64);
        expect(scalarContains(signExtend(d.s, bits, w), ext)).toBe(true);
      }), opts(501));
  });

  it('scalarFromLoad holds every value a load can give', () => {
    fc.assert(fc.property(arbU64, fc.constantFrom(1, 2, 4, 8) as fc.Arbitrary<1 | 2 | 4 | 8>, fc.boolean(), (mem, size, signed) => {
      const bits = size * 8;
      const raw = bits === 64 ? mem : mem & ((1n << BigInt(bits)) - 1n);
      const loaded = signed && size !== 8 ? BigInt.asIntN(bits, raw) & M64 : raw;
      expect(scalarContains(scalarFromLoad(size, signed && size !== 8), loaded)).toBe(true);
    }), opts(502));
  });

  it('scalarWithin: a member as a constant is within; what is within keeps its members', () => {
    fc.assert(fc.property(arbAbsMember, arbAbsMember, (old, cur) => {
      member(old);
      member(cur);
      expect(scalarWithin(old.s, K(old.x))).toBe(true);
      if (scalarWithin(old.s, cur.s)) expect(scalarContains(old.s, cur.x)).toBe(true);
      expect(scalarWithin(old.s, old.s)).toBe(true);
      expect(scalarEquals(old.s, old.s)).toBe(true);
    }), opts(503));
  });
});

// ---------------------------------------------------------------- against the running kernel

const KERNEL = kernelAvailable();
if (!KERNEL.ok) console.log(`SKIP scalar domain vs kernel verifier log: ${KERNEL.reason}`);

/** A seeded PRNG (mulberry32), so the generated programs are the same on every run. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type RegFile = Map<number, Scalar>;
interface Step {
  readonly text: string;
  readonly slots: number;
  readonly kind: 'pre' | 'exit-if' | 'op' | 'jmp' | 'end';
  /** Applies the instruction to the model; returns false when the kernel stops following this path. */
  readonly model: (st: RegFile, seen: { taken?: Map<number, Scalar> }) => boolean;
}

/**
 * A random straight-line program over r6..r9 (r0 from bpf_get_prandom_u32 as the
 * unknown), each conditional jump leaving to its own `exit`, with the model of
 * what the domain says after each instruction and on each jump edge.
 */
function randomProgram(rnd: () => number): Step[] {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const int = (n: number): number => Math.floor(rnd() * n);
  const IMMS = [0, 1, 2, 3, 7, 8, 15, 16, 31, 32, 63, 100, 255, 256, 0xffff, 0x7fffffff, -1, -2, -16, -256, -0x80000000, 0x12345678];
  const imm = (): number => (rnd() < 0.7 ? pick(IMMS) : int(2 ** 32) - 2 ** 31);
  const REGS = [6, 7, 8, 9];
  const steps: Step[] = [];
  const op = (text: string, model: (st: RegFile) => void, slots = 1): void => {
    steps.push({ text, slots, kind: 'op', model: (st) => (model(st), true) });
  };
  /** and/or with a constant may fork in the kernel: stop following there. */
  const bit = (o: 'and' | 'or', d: number, v: number, w: 32 | 64): void => {
    steps.push({ text: `${o}${w === 32 ? '32' : ''} %r${d}, ${v}`, slots: 1, kind: 'op', model: (st) => {
      if (scalarAluFork(o, st.get(d)!, K(v), w)) return false;
      st.set(d, scalarAlu(o, st.get(d)!, K(v), w));
      return true;
    } });
  };
  const loads = REGS.filter(() => rnd() < 0.25);
  if (loads.length > 0) {
    for (const t of ['ldxw %r2, [%r1+0]', 'ldxw %r3, [%r1+4]', 'mov %r4, %r2', 'add %r4, 8']) {
      steps.push({ text: t, slots: 1, kind: 'pre', model: () => true });
    }
    steps.push({ text: 'jgt %r4, %r3, @EXIT', slots: 1, kind: 'exit-if', model: () => true });
    for (const r of loads) {
      const size = pick([1, 2, 4, 8] as const);
      const signed = size !== 8 && rnd() < 0.4;
      const mn = { 1: 'b', 2: 'h', 4: 'w', 8: 'dw' }[size];
      op(`ldx${signed ? 's' : ''}${mn} %r${r}, [%r2+0]`, (st) => st.set(r, scalarFromLoad(size, signed)));
    }
  }
  for (const r of REGS.filter((x) => !loads.includes(x))) {
    const c = rnd();
    if (c < 0.2) {
      const v = imm();
      op(`mov %r${r}, ${v}`, (st) => st.set(r, K(v)));
    } else if (c < 0.3) {
      const v = (BigInt(int(2 ** 32)) << 32n) | BigInt(int(2 ** 32));
      op(`lddw %r${r}, ${v}`, (st) => st.set(r, constScalar(v)), 2);
    } else {
      steps.push({ text: 'call 7', slots: 1, kind: 'op', model: () => true });
      op(`mov %r${r}, %r0`, (st) => st.set(r, unknownScalar()));
      bit('and', r, rnd() < 0.6 ? pick([0xff, 0xf, 0xffff, 0xf0, 0x7fffffff, 0x3ff, 1, 7, 0xfff0]) : -1, 64);
      for (let k = int(3); k > 0; k--) {
        const o = pick(['add', 'sub', 'lsh', 'mul', 'xor'] as const);
        const w = rnd() < 0.3 ? 32 : 64;
        const v = o === 'lsh' ? int(8) : o === 'mul' ? pick([2, 3, 5, -1, -3]) : pick([1, 5, 14, 100, -1, -20, 0x100, -0x80000000]);
        op(`${o}${w === 32 ? '32' : ''} %r${r}, ${v}`, (st) => st.set(r, scalarAlu(o, st.get(r)!, K(v), w)));
      }
    }
  }
  const ALU: AluOp[] = ['add', 'sub', 'mul', 'div', 'mod', 'sdiv', 'smod', 'or', 'and', 'xor', 'lsh', 'rsh', 'arsh'];
  for (let n = 4 + int(14); n > 0; n--) {
    const d = pick(REGS);
    const w: 32 | 64 = rnd() < 0.35 ? 32 : 64;
    const sfx = w === 32 ? '32' : '';
    const c = rnd();
    if (c < 0.55) {
      const o = pick(ALU);
      if (rnd() < 0.4) {
        const s = pick(REGS);
        steps.push({ text: `${o}${sfx} %r${d}, %r${s}`, slots: 1, kind: 'op', model: (st) => {
          if (scalarAluFork(o, st.get(d)!, st.get(s)!, w)) return false;
          st.set(d, scalarAlu(o, st.get(d)!, st.get(s)!, w));
          return true;
        } });
      } else {
        let v = imm();
        if (o === 'lsh' || o === 'rsh' || o === 'arsh') v = int(w);
        if ((o === 'div' || o === 'mod' || o === 'sdiv' || o === 'smod') && v === 0) v = 3;
        if (o === 'and' || o === 'or') bit(o, d, v, w);
        else op(`${o}${sfx} %r${d}, ${v}`, (st) => st.set(d, scalarAlu(o, st.get(d)!, K(v), w)));
      }
    } else if (c < 0.6) {
      op(`neg${sfx} %r${d}`, (st) => st.set(d, scalarAlu('neg', st.get(d)!, st.get(d)!, w)));
    } else if (c < 0.65) {
      const s = pick(REGS);
      op(`mov${sfx} %r${d}, %r${s}`, (st) => st.set(d, scalarAlu('mov', st.get(d)!, st.get(s)!, w)));
      bit('and', d, -1, w); // clears the id the move shares, as linked registers are not modelled
    } else if (c < 0.7) {
      const kind = pick(['le', 'be', 'bswap'] as const);
      const bits = pick([16, 32, 64] as const);
      op(`${kind}${bits} %r${d}`, (st) => st.set(d, scalarEndian(st.get(d)!, kind, bits)));
    } else if (c < 0.74) {
      const bits = pick([8, 16, 32] as const);
      if (w === 32 && bits === 32) continue;
      const s = pick(REGS);
      op(`movsx${bits}${w === 32 ? '32' : '64'} %r${d}, %r${s}`, (st) => st.set(d, signExtend(st.get(s)!, bits, w)));
      bit('and', d, -1, w);
    } else {
      const o = pick(CMPS);
      const s = rnd() < 0.4 ? pick(REGS) : undefined;
      const v = imm();
      steps.push({ text: `${o}${sfx} %r${d}, ${s === undefined ? v : `%r${s}`}, @EXIT`, slots: 1, kind: 'jmp', model: (st, seen) => {
        const a = st.get(d)!;
        const b = s === undefined ? K(v) : st.get(s)!;
        const pred = branchTaken(o, a, b, w);
        const taken = new Map<number, Scalar>();
        if (s === d) {
          const t1 = refineBranchSelf(o, a, w, true);
          if (t1) taken.set(d, t1);
          const f1 = refineBranchSelf(o, a, w, false);
          if (f1) st.set(d, f1);
        } else {
          const t1 = refineBranch(o, a, b, w, true);
          if (t1) {
            taken.set(d, t1[0]);
            if (s !== undefined) taken.set(s, t1[1]);
          }
          const f1 = refineBranch(o, a, b, w, false);
          if (f1) {
            st.set(d, f1[0]);
            if (s !== undefined) st.set(s, f1[1]);
          }
        }
        seen.taken = pred === 0 ? undefined : taken;
        return pred !== 1;
      } });
    }
  }
  steps.push({ text: 'mov %r0, 0', slots: 1, kind: 'end', model: () => true });
  steps.push({ text: 'exit', slots: 1, kind: 'end', model: () => true });
  return steps;
}

/** The program text: each jump to @EXIT gets its own `r0 = 0; exit` after the end. */
function layout(steps: readonly Step[]): { text: string; index: number[] } {
  const index: number[] = [];
  let slot = 0;
  for (const s of steps) {
    index.push(slot);
    slot += s.slots;
  }
  let exits = 0;
  const lines = steps.map((s, i) => {
    if (!s.text.includes('@EXIT')) return s.text;
    const target = slot + 2 * exits++;
    return s.text.replace('@EXIT', `+${target - index[i]! - 1}`);
  });
  for (let i = 0; i < exits; i++) lines.push('mov %r0, 0', 'exit');
  return { text: lines.join('\n'), index };
}

/** "R6=scalar(...) R7=5" -> register number to state, without the precision mark and the id. */
function parseRegs(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const m of text.matchAll(/ R(\d+)=(.*?)(?= R\d+=|$)/g)) {
    let v = m[2]!.trim();
    if (v.startsWith('P')) v = v.slice(1);
    out.set(Number(m[1]), v.replace(/id=\d+([+-]\d+)?,?/, '').replace(',)', ')'));
  }
  return out;
}

describe.skipIf(!KERNEL.ok)('scalar: random programs against the running kernel verifier log', () => {
  it('every scalar state the kernel logs is the one the domain computes', () => {
    const rnd = prng(2024);
    let compared = 0;
    const problems: string[] = [];
    for (let p = 0; p < 400 && problems.length < 5; p++) {
      const steps = randomProgram(rnd);
      const { text, index } = layout(steps);
      const log = progLoad({ insns: encode(assemble(text)), license: 'GPL', logLevel: 2, logSize: 1 << 24 }).log;
      // The first path's lines (up to its exit), and the first "from X to Y" state of each jump.
      const after = new Map<number, string>();
      const from = new Map<number, string>();
      let done = false;
      for (const line of log.split('\n')) {
        const m = /^(\d+): \([0-9a-f]{2}\)(.*)$/.exec(line);
        if (m && !done) {
          if (!after.has(Number(m[1]))) after.set(Number(m[1]), m[2]!);
          if (m[2]!.includes(' exit')) done = true;
          continue;
        }
        const f = /^from (\d+) to \d+: (.*)$/.exec(line);
        if (f && !from.has(Number(f[1]))) from.set(Number(f[1]), f[2]!);
      }
      const st: RegFile = new Map();
      const check = (what: string, i: number, regs: Map<number, string>, model: Map<number, Scalar>): void => {
        for (const [r, s] of model) {
          const k = regs.get(r);
          if (k === undefined || r < 6) continue;
          compared++;
          if (k !== str(s)) problems.push(`${what} insn ${index[i]} '${steps[i]!.text}' R${r}: domain ${str(s)}, kernel ${k}\n${text}`);
        }
      };
      for (let i = 0; i < steps.length; i++) {
        const step = steps[i]!;
        const line = after.get(index[i]!);
        if (line === undefined) break;
        if (step.kind === 'pre' || step.kind === 'exit-if') continue;
        const seen: { taken?: Map<number, Scalar> } = {};
        const goOn = step.model(st, seen);
        if (seen.taken) check('jump edge of', i, parseRegs(` ${from.get(index[i]!) ?? ''}`), seen.taken);
        if (!goOn) break;
        const regs = / ; (.*)$/.exec(line);
        if (regs) check('after', i, parseRegs(` ${regs[1]}`), st);
      }
    }
    expect(problems).toEqual([]);
    expect(compared).toBeGreaterThan(1000);
  });
});
