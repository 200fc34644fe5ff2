/**
 * Random eBPF programs (ALU incl. register shifts and multiply, lddw, jumps, and
 * stack stores/loads at r10 − 512 .. r10 − 1), translated and run on the card's executor,
 * against the host's reference interpreter (xdp/runtime, engine `interp`): the full
 * 64-bit r0 (and r1..r9) read back from the GPR pairs, the action code the outro
 * leaves in gprA_0 against `nfpActionOf(r0)`, both banks agreeing on every eBPF
 * register, and every card instruction a valid word. Fixed seed (JIT_SEED=n tries others).
 */
import fc from 'fast-check';
import { recordsFromInsns, translate } from '../../offload/jit/translate.js';
import { describe, expect, it } from 'vitest';
import { nfpActionOf } from '../../offload/jit/translate.js';
import { slotIndices, type Insn } from '../../xdp/isa/insn.js';
import type { JmpName } from '../../xdp/isa/kind.js';
import {
  aluInsn, exitInsn, jaInsn, jmpInsn, lddwInsn, ldxInsn, negInsn, reDecoded, runCard, runHost, stInsn, stxInsn,
  type AluOpName,
} from './harness.js';

const SEED = Number(process.env.JIT_SEED ?? 0x1171);
const RUNS = 400;

const reg = fc.integer({ min: 0, max: 9 });
/** Destinations favour r0 (which starts at 0), so that the return value varies. */
const dstReg = fc.oneof({ arbitrary: fc.constant(0), weight: 1 }, { arbitrary: reg, weight: 3 });
const width = fc.constantFrom<32 | 64>(32, 64);
const imm32 = fc.oneof(
  fc.integer({ min: -128, max: 255 }),
  fc.integer({ min: -0x8000, max: 0xffff }),
  fc.integer({ min: -0x80000000, max: 0x7fffffff }),
  fc.constantFrom(0, -1, 0x7fffffff, -0x80000000, 0x10000, 0xff00, 0xffff0000 | 0, 0x00ffff00, 0x12345678),
);
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const value64 = fc.oneof(u64, fc.constantFrom(0n, 1n, 3n, 4n, (1n << 63n), (1n << 64n) - 1n, 0xffffffffn, 1n << 32n));

/** One step of a program; jumps pick their (forward) target later. */
type Step =
  | { k: 'alu'; insn: Insn }
  | { k: 'seq'; insns: Insn[] }
  | { k: 'jcond'; width: 32 | 64; op: JmpName; dst: number; src: { reg: number } | { imm: number }; pick: number }
  | { k: 'ja'; pick: number }
  | { k: 'exit' };

const BINARY: readonly AluOpName[] = ['add', 'sub', 'and', 'or', 'xor', 'mov', 'mul'];
const JUMPS: readonly JmpName[] = ['jeq', 'jne', 'jgt', 'jge', 'jlt', 'jle', 'jsgt', 'jsge', 'jslt', 'jsle', 'jset'];
const source = fc.oneof(reg.map((r) => ({ reg: r })), imm32.map((i) => ({ imm: i })));

const aluStep: fc.Arbitrary<Step> = fc.oneof(
  fc.tuple(width, fc.constantFrom(...BINARY), dstReg, source).map(([w, op, d, s]) => ({ k: 'alu' as const, insn: aluInsn(w, op, d, s) })),
  fc.tuple(width, dstReg).map(([w, d]) => ({ k: 'alu' as const, insn: negInsn(w, d) })),
  fc.tuple(fc.constantFrom<AluOpName>('lsh', 'rsh', 'arsh'), dstReg, fc.integer({ min: 0, max: 63 }), fc.boolean()).map(
    ([op, d, n, wide]) => ({ k: 'alu' as const, insn: aluInsn(wide ? 64 : 32, op, d, { imm: wide ? n : n & 31 }) })),
  fc.tuple(dstReg, value64).map(([d, v]) => ({ k: 'alu' as const, insn: lddwInsn(d, v) })),
  // Shifts by a register: the amount is whatever the register holds (eBPF masks it to 63 / 31).
  fc.tuple(width, fc.constantFrom<AluOpName>('lsh', 'rsh', 'arsh'), dstReg, reg).map(
    ([w, op, d, s]) => ({ k: 'alu' as const, insn: aluInsn(w, op, d, { reg: s }) })),
);
/**
 * The stack: stores (stx or st) then loads of random sizes at offsets in −512..−1
 * aligned to the size. An 8-byte slot (the top few slots more often: LM pointer 0's
 * window) gets a store and a load inside it, of sizes of their own; loose loads and
 * stores anywhere read and write whatever the stack holds (zero where never written).
 */
const accessSize = fc.constantFrom<1 | 2 | 4 | 8>(1, 2, 4, 8);
const slot8 = fc.oneof(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 64 })).map((k) => -8 * k);
const within = (base: number, size: 1 | 2 | 4 | 8, pick: number): number => base + size * (pick % (8 / size));
const store = (size: 1 | 2 | 4 | 8, off: number, src: { reg: number } | { imm: number }): Insn =>
  'reg' in src ? stxInsn(size, 10, off, src.reg) : stInsn(size, 10, off, src.imm);
const stackStep: fc.Arbitrary<Step> = fc.oneof(
  fc.tuple(slot8, accessSize, fc.nat(), source, accessSize, fc.nat(), dstReg).map(([base, ss, sp, src, ls, lp, d]) => ({
    k: 'seq' as const, insns: [store(ss, within(base, ss, sp), src), ldxInsn(ls, d, 10, within(base, ls, lp))],
  })),
  fc.tuple(slot8, accessSize, fc.nat(), source).map(([base, size, p, src]) => ({ k: 'alu' as const, insn: store(size, within(base, size, p), src) })),
  fc.tuple(slot8, accessSize, fc.nat(), dstReg).map(([base, size, p, d]) => ({ k: 'alu' as const, insn: ldxInsn(size, d, 10, within(base, size, p)) })),
);
const jumpStep: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.tuple(width, fc.constantFrom(...JUMPS), reg, source, fc.nat()).map(
    ([w, op, dst, src, pick]) => ({ k: 'jcond' as const, width: w, op, dst, src, pick })), weight: 6 },
  { arbitrary: fc.nat().map((pick) => ({ k: 'ja' as const, pick })), weight: 1 },
  { arbitrary: fc.constant({ k: 'exit' as const }), weight: 1 },
);
const step = fc.oneof({ arbitrary: aluStep, weight: 4 }, { arbitrary: stackStep, weight: 1 }, { arbitrary: jumpStep, weight: 1 });

/**
 * The program: the steps, then `exit`. With `mask`, every exit is preceded by
 * `r0 &= 7` (jumps to an exit land on the mask), so that every action code is reached.
 */
const programArb = fc.tuple(fc.array(step, { minLength: 1, maxLength: 40, size: 'large' }), fc.boolean()).map(([steps, mask]) => {
  const all: Step[] = [...steps, { k: 'exit' }];
  const exitGroup = (): Insn[] => (mask ? [aluInsn(64, 'and', 0, { imm: 7 }), exitInsn()] : [exitInsn()]);
  // Each step becomes a group of instructions; a jump targets the start of a later group.
  const sized = all.map((s): Insn[] => (s.k === 'alu' ? [s.insn] : s.k === 'seq' ? s.insns : s.k === 'exit' ? exitGroup() : [exitInsn()]));
  const slots = slotIndices(sized.flat());
  const groupSlot: number[] = [];
  let at = 0;
  for (const g of sized) {
    groupSlot.push(slots[at]!);
    at += g.length;
  }
  return all.flatMap((s, pos): Insn[] => {
    if (s.k === 'alu' || s.k === 'seq' || s.k === 'exit') return sized[pos]!;
    const target = pos + 1 + (s.pick % (all.length - pos - 1));
    const off = groupSlot[target]! - groupSlot[pos]! - 1;
    return [s.k === 'ja' ? jaInsn(off) : jmpInsn(s.width, s.op, s.dst, s.src, off)];
  });
});

const inputs = fc.array(value64, { minLength: 5, maxLength: 5 });

describe('random programs: card executor = host interpreter', () => {
  it(`${RUNS} programs (seed ${SEED}): r0..r9, both banks, the action code`, () => {
    let ebpf = 0;
    let card = 0;
    const actions = new Map<number, number>();
    fc.assert(
      fc.property(programArb, inputs, (insns, r1to5) => {
        const init = [0n, ...r1to5];
        const want = runHost(insns, init);
        const got = runCard(insns, init);
        expect(got.regs.map((v) => v.toString(16))).toEqual(want.map((v) => v.toString(16)));
        expect(got.action).toBe(nfpActionOf(want[0]!));
        for (let g = 2; g < 20; g++) expect(got.state.gprA[g]).toBe(got.state.gprB[g]);
        expect(reDecoded(got.program)).toEqual(got.program.insns);
        // With every pass (those that need no verifier facts act: neg-add-sub, zext by liveness): r0 and the action.
        const opt = runCard(insns, init, translate(recordsFromInsns(insns)));
        expect(opt.regs[0]!.toString(16)).toBe(want[0]!.toString(16));
        expect(opt.action).toBe(got.action);
        ebpf += insns.length;
        card += got.program.outroPc;
        actions.set(got.action, (actions.get(got.action) ?? 0) + 1);
      }),
      { numRuns: RUNS, seed: SEED },
    );
    console.log(`JIT random programs: ${ebpf} eBPF instructions → ${card} card instructions before the outro ` +
      `(${(card / ebpf).toFixed(2)} per eBPF instruction); actions ` +
      [...actions].sort(([a], [b]) => a - b).map(([a, n]) => `0x${a.toString(16)}×${n}`).join(' '));
    // Every action code was reached (r0 &= 7 before every exit of half the programs).
    expect([...actions.keys()].sort((a, b) => a - b)).toEqual([0x11, 0x22, 0x44, 0x82]);
  });
});
