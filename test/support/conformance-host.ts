/**
 * One bpf_conformance case on a host engine, as the suite's own runner sets it up: the
 * case's memory as a region r1 points at (r2 its length), helper 5 the suite's
 * "unwind" (returns its argument; 0 ends the program). Shared by the host engines'
 * conformance test and the card's.
 */
import type { ConformanceCase } from '../../xdp/asm/conformance.js';
import { conformanceProgram } from '../../xdp/asm/conformance.js';
import type { Insn } from '../../xdp/isa/insn.js';
import { toBig } from '../../xdp/runtime/alu64.js';
import { DEFAULT_BUDGET, makeRunner, type EngineName } from '../../xdp/runtime/engine.js';
import { prepareProgram } from '../../xdp/runtime/exec-program.js';
import { Memory, RegionKind } from '../../xdp/runtime/memory.js';
import { programFromInsns } from '../../xdp/runtime/raw-program.js';
import { createVm, type HelperFn } from '../../xdp/runtime/vm.js';

class Unwind extends Error {}
const unwind: HelperFn = (vm) => {
  vm.regs[0] = vm.regs[2]!;
  vm.regs[1] = vm.regs[3]!;
  if (vm.regs[2] === 0 && vm.regs[3] === 0) throw new Unwind();
};

/** r0 (64-bit) after the case's program ran on `engine`. */
export function runConformanceOnHost(c: ConformanceCase, engine: EngineName, insns: readonly Insn[] = conformanceProgram(c)): bigint {
  const memory = new Memory();
  const helpers: (HelperFn | undefined)[] = [];
  helpers[5] = unwind;
  const vm = createVm(memory, helpers, DEFAULT_BUDGET);
  const prog = prepareProgram(programFromInsns('conformance', [...insns]), { handle: () => 0, value: () => ({ region: 0, offset: 0 }) });
  if (c.mem && c.mem.length > 0) {
    const m = memory.add(RegionKind.MAP_VALUE, c.mem.slice());
    vm.regs[2] = 0;
    vm.regs[3] = m.id;
  }
  vm.regs[4] = c.mem?.length ?? 0;
  try {
    makeRunner(prog, engine)(vm);
  } catch (e) {
    if (e instanceof Unwind) return 0n;
    throw e;
  }
  return toBig(vm.regs[0]!, vm.regs[1]!);
}
