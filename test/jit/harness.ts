/**
 * Test helpers for the JIT: build eBPF instructions, run a raw instruction list on
 * the host's reference interpreter (xdp/runtime, engine `interp`) with r1..r5 set,
 * translate it and run the card program on the executor with the same registers,
 * and read back both sides.
 */
import { run } from '../../nic-sim/core/run.js';
import { createCoreState, type CoreState } from '../../nic-sim/core/state.js';
import { decodeProgram } from '../../nic-sim/isa/decode.js';
import { encodeProgram } from '../../nic-sim/isa/encode.js';
import { translate, recordsFromInsns, ACTION_GPR, type CardProgram } from '../../offload/jit/translate.js';
import { makeInsn, makeLddw, type Insn } from '../../xdp/isa/insn.js';
import type { JmpName } from '../../xdp/isa/kind.js';
import { AluOp, Class, JmpOp, Mode, Size, Src } from '../../xdp/isa/opcodes.js';
import { toBig } from '../../xdp/runtime/alu64.js';
import { DEFAULT_BUDGET, makeRunner } from '../../xdp/runtime/engine.js';
import { prepareProgram } from '../../xdp/runtime/exec-program.js';
import { Memory } from '../../xdp/runtime/memory.js';
import { programFromInsns } from '../../xdp/runtime/raw-program.js';
import { createVm } from '../../xdp/runtime/vm.js';

export type AluOpName = 'add' | 'sub' | 'and' | 'or' | 'xor' | 'mov' | 'neg' | 'lsh' | 'rsh' | 'arsh' | 'mul' | 'div' | 'mod';

const ALU_CODE: Record<AluOpName, number> = {
  add: AluOp.ADD, sub: AluOp.SUB, and: AluOp.AND, or: AluOp.OR, xor: AluOp.XOR, mov: AluOp.MOV, neg: AluOp.NEG,
  lsh: AluOp.LSH, rsh: AluOp.RSH, arsh: AluOp.ARSH, mul: AluOp.MUL, div: AluOp.DIV, mod: AluOp.MOD,
};
const JMP_CODE: Record<JmpName, number> = {
  jeq: JmpOp.JEQ, jne: JmpOp.JNE, jgt: JmpOp.JGT, jge: JmpOp.JGE, jlt: JmpOp.JLT, jle: JmpOp.JLE, jsgt: JmpOp.JSGT,
  jsge: JmpOp.JSGE, jslt: JmpOp.JSLT, jsle: JmpOp.JSLE, jset: JmpOp.JSET,
};

/** `dst op= imm` (useReg false) or `dst op= src`. */
export function aluInsn(width: 32 | 64, op: AluOpName, dst: number, src: { reg: number } | { imm: number }): Insn {
  const cls = width === 64 ? Class.ALU64 : Class.ALU;
  if ('reg' in src) return makeInsn(cls | ALU_CODE[op] | Src.X, dst, src.reg, 0, 0);
  return makeInsn(cls | ALU_CODE[op] | Src.K, dst, 0, 0, src.imm);
}
export const negInsn = (width: 32 | 64, dst: number): Insn => aluInsn(width, 'neg', dst, { imm: 0 });
export const lddwInsn = (dst: number, value: bigint): Insn => makeLddw(dst, value);

export function jmpInsn(width: 32 | 64, op: JmpName, dst: number, src: { reg: number } | { imm: number }, off: number): Insn {
  const cls = width === 64 ? Class.JMP : Class.JMP32;
  if ('reg' in src) return makeInsn(cls | JMP_CODE[op] | Src.X, dst, src.reg, off, 0);
  return makeInsn(cls | JMP_CODE[op] | Src.K, dst, 0, off, src.imm);
}
const SIZE_CODE: Record<1 | 2 | 4 | 8, number> = { 1: Size.B, 2: Size.H, 4: Size.W, 8: Size.DW };
/** `*(size *)(base + off) = src`. */
export const stxInsn = (size: 1 | 2 | 4 | 8, base: number, off: number, src: number): Insn =>
  makeInsn(Class.STX | Mode.MEM | SIZE_CODE[size], base, src, off, 0);
/** `*(size *)(base + off) = imm`. */
export const stInsn = (size: 1 | 2 | 4 | 8, base: number, off: number, value: number): Insn =>
  makeInsn(Class.ST | Mode.MEM | SIZE_CODE[size], base, 0, off, value);
/** `dst = *(size *)(base + off)`. */
export const ldxInsn = (size: 1 | 2 | 4 | 8, dst: number, base: number, off: number): Insn =>
  makeInsn(Class.LDX | Mode.MEM | SIZE_CODE[size], dst, base, off, 0);
export const jaInsn = (off: number): Insn => makeInsn(Class.JMP | JmpOp.JA, 0, 0, off, 0);
export const exitInsn = (): Insn => makeInsn(Class.JMP | JmpOp.EXIT);

/** r0..r9 as unsigned 64-bit values. */
export type Regs = bigint[];

const U64 = (v: bigint): bigint => BigInt.asUintN(64, v);

/** Run on the reference interpreter with r0..r9 set from `init` (missing ones 0); r0..r9 after. */
export function runHost(insns: readonly Insn[], init: Regs): Regs {
  const prog = prepareProgram(programFromInsns('jit-test', insns), {
    handle: () => 0, value: () => ({ region: 0, offset: 0 }),
  });
  const vm = createVm(new Memory(), [], DEFAULT_BUDGET);
  for (let r = 0; r <= 9; r++) {
    const v = U64(init[r] ?? 0n);
    vm.regs[2 * r] = Number(BigInt.asIntN(32, v));
    vm.regs[2 * r + 1] = Number(BigInt.asIntN(32, v >> 32n));
  }
  makeRunner(prog, 'interp')(vm);
  return Array.from({ length: 10 }, (_, r) => toBig(vm.regs[2 * r]!, vm.regs[2 * r + 1]!));
}

export interface CardRun {
  readonly program: CardProgram;
  readonly state: CoreState;
  /** r0..r9 read from bank B. */
  readonly regs: Regs;
  readonly action: number;
  readonly steps: number;
}

/**
 * Translate (by default with no optimisations, so that every register ends as the host's) and run on
 * the card's executor with r0..r9 set in both banks.
 */
export function runCard(insns: readonly Insn[], init: Regs, program = translate(recordsFromInsns(insns), { passes: new Set() })): CardRun {
  const s = createCoreState();
  for (let r = 0; r <= 9; r++) {
    const v = U64(init[r] ?? 0n);
    const lo = Number(v & 0xffffffffn);
    const hi = Number(v >> 32n);
    s.gprA[2 * r] = s.gprB[2 * r] = lo;
    s.gprA[2 * r + 1] = s.gprB[2 * r + 1] = hi;
  }
  const res = run(program.insns, s, { endPc: program.endPc });
  const regs = Array.from({ length: 10 }, (_, r) => (BigInt(s.gprB[2 * r + 1]!) << 32n) | BigInt(s.gprB[2 * r]!));
  return { program, state: s, regs, action: s.gprA[ACTION_GPR.n]!, steps: res.counters.steps };
}

/** The card program encoded to words and decoded again (equal to the program when every instruction is valid). */
export const reDecoded = (program: CardProgram) => decodeProgram(encodeProgram(program.insns));
