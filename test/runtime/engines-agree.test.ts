import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeInsn, makeLddw, type Insn } from '../../xdp/isa/insn.js';
import { AluOp, AtomicOp, Class, JmpOp, Mode, Size, Src } from '../../xdp/isa/opcodes.js';
import { makeRunner, type EngineName } from '../../xdp/runtime/engine.js';
import { prepareProgram } from '../../xdp/runtime/exec-program.js';
import { Memory } from '../../xdp/runtime/memory.js';
import { programFromInsns } from '../../xdp/runtime/raw-program.js';
import { ExecFault, createVm } from '../../xdp/runtime/vm.js';

/**
 * Random programs over r0..r9 (ALU of both widths with every operation, byte swaps, forward
 * conditional jumps of both widths, stack stores/loads and atomics at fixed slots), ending in
 * exit; the interpreter is the reference the compiling engine must match register for register.
 */
const reg = fc.integer({ min: 0, max: 9 });
const imm = fc.oneof(fc.integer({ min: -0x80000000, max: 0x7fffffff }), fc.constantFrom(0, 1, -1, 31, 32, 63, 64, 0x7fffffff, -0x80000000));
const aluOps = [AluOp.ADD, AluOp.SUB, AluOp.MUL, AluOp.DIV, AluOp.OR, AluOp.AND, AluOp.LSH, AluOp.RSH, AluOp.NEG, AluOp.MOD, AluOp.XOR, AluOp.MOV, AluOp.ARSH];
const jmpOps = [JmpOp.JEQ, JmpOp.JGT, JmpOp.JGE, JmpOp.JSET, JmpOp.JNE, JmpOp.JSGT, JmpOp.JSGE, JmpOp.JLT, JmpOp.JLE, JmpOp.JSLT, JmpOp.JSLE];

const piece: fc.Arbitrary<(remaining: number) => Insn[]> = fc.oneof(
  fc.record({ cls: fc.constantFrom(Class.ALU, Class.ALU64), op: fc.constantFrom(...aluOps), x: fc.boolean(), d: reg, s: reg, imm, signed: fc.boolean() })
    .map((r) => () => {
      const off = (r.op === AluOp.DIV || r.op === AluOp.MOD) && r.signed ? 1 : 0;
      return [makeInsn(r.cls | r.op | (r.op === AluOp.NEG ? 0 : r.x ? Src.X : Src.K), r.d, r.x && r.op !== AluOp.NEG ? r.s : 0, off, r.x || r.op === AluOp.NEG ? 0 : r.imm)];
    }),
  fc.record({ cls: fc.constantFrom(Class.ALU, Class.ALU64), d: reg, s: reg, bits: fc.constantFrom(8, 16, 32) })
    .map((r) => () => [makeInsn(r.cls | AluOp.MOV | Src.X, r.d, r.s, r.cls === Class.ALU && r.bits === 32 ? 16 : r.bits)]),
  fc.record({ kind: fc.constantFrom(Class.ALU | Src.K, Class.ALU | Src.X, Class.ALU64 | Src.K), d: reg, bits: fc.constantFrom(16, 32, 64) })
    .map((r) => () => [makeInsn(r.kind | AluOp.END, r.d, 0, 0, r.bits)]),
  fc.record({ d: reg, v: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }) }).map((r) => () => [makeLddw(r.d, r.v)]),
  fc.record({ cls: fc.constantFrom(Class.JMP, Class.JMP32), op: fc.constantFrom(...jmpOps), x: fc.boolean(), d: reg, s: reg, imm, skip: fc.integer({ min: 0, max: 6 }) })
    .map((r) => (remaining: number) => [makeInsn(r.cls | r.op | (r.x ? Src.X : Src.K), r.d, r.x ? r.s : 0, Math.min(r.skip, remaining), r.x ? 0 : r.imm)]),
  fc.record({ size: fc.constantFrom(Size.B, Size.H, Size.W, Size.DW), slot: fc.integer({ min: 1, max: 8 }), d: reg, s: reg, signed: fc.boolean() })
    .map((r) => () => [
      makeInsn(Class.STX | Mode.MEM | r.size, 10, r.s, -8 * r.slot),
      makeInsn(Class.LDX | (r.signed && r.size !== Size.DW ? Mode.MEMSX : Mode.MEM) | r.size, r.d, 10, -8 * r.slot),
    ]),
  fc.record({ size: fc.constantFrom(Size.W, Size.DW), op: fc.constantFrom(AtomicOp.ADD, AtomicOp.OR, AtomicOp.AND, AtomicOp.XOR, AtomicOp.ADD | AtomicOp.FETCH, AtomicOp.XOR | AtomicOp.FETCH, AtomicOp.XCHG, AtomicOp.CMPXCHG), slot: fc.integer({ min: 1, max: 8 }), s: fc.integer({ min: 1, max: 9 }) })
    .map((r) => () => [
      makeInsn(Class.ALU64 | AluOp.MOV | Src.X, 1, 10),
      makeInsn(Class.STX | Mode.ATOMIC | r.size, 1, r.s, -8 * r.slot, r.op),
    ]),
);

function build(pieces: ((remaining: number) => Insn[])[], seeds: bigint[]): Insn[] {
  const out: Insn[] = [];
  // Initialise r0..r9 and eight stack slots from the seeds.
  seeds.forEach((v, r) => out.push(makeLddw(r, v)));
  for (let slot = 1; slot <= 8; slot++) out.push(makeInsn(Class.STX | Mode.MEM | Size.DW, 10, slot % 10, -8 * slot));
  pieces.forEach((p, i) => out.push(...p(pieces.length - i - 1)));
  // Fold every register and stack slot into r0 so that any difference shows.
  for (let r = 1; r <= 9; r++) out.push(makeInsn(Class.ALU64 | AluOp.XOR | Src.X, 0, r));
  for (let slot = 1; slot <= 8; slot++) {
    out.push(makeInsn(Class.LDX | Mode.MEM | Size.DW, 1, 10, -8 * slot));
    out.push(makeInsn(Class.ALU64 | AluOp.ADD | Src.X, 0, 1));
  }
  out.push(makeInsn(Class.JMP | JmpOp.EXIT));
  return out;
}

function run(insns: Insn[], engine: EngineName): string {
  const memory = new Memory();
  const vm = createVm(memory, [], 100_000);
  const prog = prepareProgram(programFromInsns('random', insns), { handle: () => 0, value: () => ({ region: 0, offset: 0 }) });
  try {
    makeRunner(prog, engine)(vm);
  } catch (e) {
    if (e instanceof ExecFault) return `fault: ${e.message}`;
    throw e;
  }
  return `${vm.regs[0]}:${vm.regs[1]}`;
}

describe('the compiling engine matches the interpreter', () => {
  it('on random programs (fast-check, fixed seed)', () => {
    fc.assert(
      fc.property(fc.array(piece, { minLength: 1, maxLength: 40 }), fc.array(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { minLength: 10, maxLength: 10 }), (pieces, seeds) => {
        const insns = build(pieces, seeds);
        expect(run(insns, 'compiled')).toBe(run(insns, 'interp'));
      }),
      { seed: 9669, numRuns: 3000 },
    );
  });

  it('stops a runaway loop in both engines with the budget message', () => {
    const loop = [makeInsn(Class.ALU64 | AluOp.ADD | Src.K, 0, 0, 0, 1), makeInsn(Class.JMP | JmpOp.JA, 0, 0, -2), makeInsn(Class.JMP | JmpOp.EXIT)];
    for (const engine of ['interp', 'compiled'] as const) {
      expect(run(loop, engine)).toMatch(/^fault: random insn \d+: instruction budget of 100000 exhausted/);
    }
  });

  it('faults cleanly on a wild pointer, a NULL dereference, and a jump out of the program', () => {
    const wild = [makeLddw(1, 0x1234_0000_0000n), makeInsn(Class.LDX | Mode.MEM | Size.W, 0, 1), makeInsn(Class.JMP | JmpOp.EXIT)];
    const nul = [makeInsn(Class.ALU64 | AluOp.MOV | Src.K, 1, 0, 0, 0), makeInsn(Class.LDX | Mode.MEM | Size.B, 0, 1, 4), makeInsn(Class.JMP | JmpOp.EXIT)];
    const out = [makeInsn(Class.JMP | JmpOp.JA, 0, 0, 5), makeInsn(Class.JMP | JmpOp.EXIT)];
    const minusOne = [makeLddw(1, 0xffff_ffff_0000_0004n), makeInsn(Class.LDX | Mode.MEM | Size.B, 0, 1), makeInsn(Class.JMP | JmpOp.EXIT)];
    const stackOverflow = [makeInsn(Class.STX | Mode.MEM | Size.DW, 10, 1, 8), makeInsn(Class.JMP | JmpOp.EXIT)];
    for (const engine of ['interp', 'compiled'] as const) {
      expect(run(wild, engine)).toMatch(/invalid pointer 0x1234/);
      expect(run(nul, engine)).toMatch(/read from NULL\+4/);
      expect(run(out, engine)).toMatch(/fault: .*outside/);
      expect(run(minusOne, engine)).toMatch(/invalid pointer 0xffffffff00000004/);
      expect(run(stackOverflow, engine)).toMatch(/insn 0: write of 8 bytes at offset 4104 is outside the 4096-byte stack/);
    }
  });
});
