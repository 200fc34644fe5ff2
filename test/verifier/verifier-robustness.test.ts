/**
 * Bad input to the verifier: random instruction soup, registers above r10,
 * reserved fields, jumps into lddw, a million-instruction program, deeply
 * nested loops — always a verdict with a message, never an exception or a hang.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeInsn, makeLddw, type Insn } from '../../xdp/isa/insn.js';
import { AluOp, Class, JmpOp, Src } from '../../xdp/isa/opcodes.js';
import { programFromInsns } from '../../xdp/runtime/raw-program.js';
import { verifyProgram } from '../../offload/verifier/verifier.js';
import type { MapDef } from '../../xdp/object/bpf-object.js';

const MAPS: MapDef[] = [
  { index: 0, name: 'arr', type: 2, keySize: 4, valueSize: 16, maxEntries: 4, flags: 0, pinning: 0, origin: 'btf', section: '.maps' },
  { index: 1, name: 'hash', type: 1, keySize: 8, valueSize: 8, maxEntries: 16, flags: 0, pinning: 0, origin: 'btf', section: '.maps' },
];

const verify = (insns: Insn[]) => verifyProgram(programFromInsns('p', insns), MAPS, { complexityLimit: 200_000 });

describe('verifier on bad input', () => {
  it('random programs: a verdict every time (fast-check, fixed seed)', () => {
    const slot = fc.record({
      code: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x07, 0x0f, 0xb7, 0xbf, 0x61, 0x71, 0x79, 0x63, 0x7b, 0x85, 0x95, 0x15, 0x2d, 0x05, 0xdb, 0x18)),
      dst: fc.integer({ min: 0, max: 15 }),
      src: fc.integer({ min: 0, max: 15 }),
      off: fc.integer({ min: -8, max: 8 }),
      imm: fc.oneof(fc.integer({ min: -16, max: 64 }), fc.integer({ min: -0x80000000, max: 0x7fffffff })),
    });
    fc.assert(
      fc.property(fc.array(slot, { minLength: 1, maxLength: 40 }), (slots) => {
        const insns: Insn[] = slots.map((s) => (s.code === 0x18 ? makeLddw(s.dst & 7, BigInt(s.imm), s.src % 7) : makeInsn(s.code, s.dst, s.src, s.off, s.imm)));
        insns.push(makeInsn(Class.ALU64 | AluOp.MOV | Src.K, 0, 0, 0, 2), makeInsn(Class.JMP | JmpOp.EXIT));
        const r = verify(insns);
        expect(typeof r.ok).toBe('boolean');
        if (!r.ok) expect(r.error!.message.length).toBeGreaterThan(0);
      }),
      { seed: 4040, numRuns: 3000 },
    );
  });

  it('a million-instruction program is refused as too large, quickly and in bounded memory', () => {
    const insns: Insn[] = [];
    for (let i = 0; i < 1_000_000; i++) insns.push(makeInsn(Class.ALU64 | AluOp.ADD | Src.K, 0, 0, 0, 1));
    insns.unshift(makeInsn(Class.ALU64 | AluOp.MOV | Src.K, 0, 0, 0, 0));
    insns.push(makeInsn(Class.JMP | JmpOp.EXIT));
    const before = process.memoryUsage().heapUsed;
    const r = verifyProgram(programFromInsns('big', insns), [], {});
    expect(r.ok).toBe(false);
    expect(r.error!.message).toMatch(/BPF program is too large. Processed 1000001 insn/);
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(1 << 30);
  });

  it('deeply nested loops end in a verdict within the limit', () => {
    // Eight nested counted loops of 16 iterations: 16^8 paths through the innermost body.
    const insns: Insn[] = [];
    const depth = 8;
    for (let d = 0; d < depth; d++) insns.push(makeInsn(Class.ALU64 | AluOp.MOV | Src.K, d + 1, 0, 0, 16));
    const heads: number[] = [];
    for (let d = 0; d < depth; d++) heads.push(insns.length);
    insns.push(makeInsn(Class.ALU64 | AluOp.MOV | Src.K, 0, 0, 0, 2));
    for (let d = depth - 1; d >= 0; d--) {
      insns.push(makeInsn(Class.ALU64 | AluOp.ADD | Src.K, d + 1, 0, 0, -1));
      const here = insns.length;
      insns.push(makeInsn(Class.JMP | JmpOp.JNE | Src.K, d + 1, 0, heads[d]! - here - 1, 0));
    }
    insns.push(makeInsn(Class.JMP | JmpOp.EXIT));
    const started = performance.now();
    const r = verifyProgram(programFromInsns('nested', insns), [], {});
    expect(performance.now() - started).toBeLessThan(30_000);
    if (!r.ok) expect(r.error!.message).toMatch(/too large|infinite loop|too complex/);
  });

  it('structure errors name the instruction: registers above r10, reserved fields, jumps into lddw', () => {
    const exit = [makeInsn(Class.ALU64 | AluOp.MOV | Src.K, 0, 0, 0, 0), makeInsn(Class.JMP | JmpOp.EXIT)];
    expect(verify([makeInsn(Class.ALU64 | AluOp.MOV | Src.K, 12, 0, 0, 0), ...exit]).error).toMatchObject({ insn: 0, message: 'R12 is invalid', pass: 'structure' });
    expect(verify([makeInsn(Class.ALU64 | AluOp.ADD | Src.K, 1, 3, 0, 0), ...exit]).error).toMatchObject({ insn: 0, message: 'BPF_ALU uses reserved fields' });
    // As the kernel words them: a conditional jump into an lddw names the lddw; an unconditional one leaves it unreachable.
    expect(verify([makeInsn(Class.JMP | JmpOp.JEQ | Src.K, 1, 0, 1), makeLddw(1, 5n), ...exit]).error).toMatchObject({ insn: 1, message: 'jump into the middle of ldimm64 insn 1' });
    expect(verify([makeInsn(Class.JMP | JmpOp.JA, 0, 0, 1), makeLddw(1, 5n), ...exit]).error).toMatchObject({ insn: 1, message: 'unreachable insn 1' });
    expect(verify([makeInsn(0xe7, 1), ...exit]).error!.message).toMatch(/unknown opcode e7/);
  });
});
