/**
 * may_goto (BPF_JMP|BPF_JCOND, the kernel's bounded-loop instruction beyond RFC 9669): both host
 * engines fall through BPF_MAX_LOOPS (8,388,608) times per run, then jump; the budget starts over
 * with every run; the disassembler names it; the verifier accepts the loop it bounds.
 */
import { describe, expect, it } from 'vitest';
import { formatInsn } from '../../xdp/isa/disasm.js';
import { makeInsn } from '../../xdp/isa/insn.js';
import { kindOf } from '../../xdp/isa/kind.js';
import { AluOp, Class, JmpOp, Src } from '../../xdp/isa/opcodes.js';
import { toBig } from '../../xdp/runtime/alu64.js';
import { ENGINE_NAMES, makeRunner } from '../../xdp/runtime/engine.js';
import { prepareProgram } from '../../xdp/runtime/exec-program.js';
import { Memory } from '../../xdp/runtime/memory.js';
import { programFromInsns } from '../../xdp/runtime/raw-program.js';
import { MAX_LOOPS, createVm } from '../../xdp/runtime/vm.js';
import { verifyProgram } from '../../offload/verifier/verifier.js';

const MAY_GOTO = Class.JMP | JmpOp.JCOND | Src.K;
// r0 = 0; loop: may_goto +2; r0 += 1; goto loop; exit
const LOOP = [
  makeInsn(Class.ALU64 | AluOp.MOV | Src.K, 0, 0, 0, 0),
  makeInsn(MAY_GOTO, 0, 0, 2, 0),
  makeInsn(Class.ALU64 | AluOp.ADD | Src.K, 0, 0, 0, 1),
  makeInsn(Class.JMP | JmpOp.JA, 0, 0, -3, 0),
  makeInsn(Class.JMP | JmpOp.EXIT, 0, 0, 0, 0),
];

describe('may_goto', () => {
  it('decodes and disassembles as the kernel names it; other JCOND forms are invalid', () => {
    expect(kindOf(LOOP[1]!)).toEqual({ k: 'maygoto' });
    expect(formatInsn(LOOP[1]!)).toBe('may_goto +2');
    expect(kindOf(makeInsn(MAY_GOTO, 0, 1, 2, 0)).k).toBe('invalid');
    expect(kindOf(makeInsn(Class.JMP32 | JmpOp.JCOND | Src.K, 0, 0, 2, 0)).k).toBe('invalid');
  });

  for (const engine of ENGINE_NAMES) {
    it(`${engine}: falls through BPF_MAX_LOOPS times, then jumps; every run starts afresh`, () => {
      const vm = createVm(new Memory(), [], 4 * MAX_LOOPS);
      const run = makeRunner(prepareProgram(programFromInsns('loop', LOOP), { handle: () => 0, value: () => ({ region: 0, offset: 0 }) }), engine);
      run(vm);
      expect(toBig(vm.regs[0]!, vm.regs[1]!)).toBe(BigInt(MAX_LOOPS));
      run(vm);
      expect(toBig(vm.regs[0]!, vm.regs[1]!)).toBe(BigInt(MAX_LOOPS));
    });
  }

  it('the verifier accepts the loop without walking its 8M iterations', () => {
    const r = verifyProgram(programFromInsns('loop', LOOP), []);
    expect(r.error).toBeUndefined();
    expect(r.stats.processed).toBeLessThan(50);
  });
});
