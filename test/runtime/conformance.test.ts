import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { conformanceProgram, parseConformanceFile, type ConformanceCase } from '../../xdp/asm/conformance.js';
import { kindOf } from '../../xdp/isa/kind.js';
import { toBig } from '../../xdp/runtime/alu64.js';
import { DEFAULT_BUDGET, ENGINE_NAMES, makeRunner, type EngineName } from '../../xdp/runtime/engine.js';
import { prepareProgram } from '../../xdp/runtime/exec-program.js';
import { Memory, RegionKind } from '../../xdp/runtime/memory.js';
import { programFromInsns } from '../../xdp/runtime/raw-program.js';
import { ExecFault, createVm, type HelperFn } from '../../xdp/runtime/vm.js';
import { SHARED, sharedExists } from '../support/paths.js';

const DIR = join(SHARED, 'conformance');
const HAVE = sharedExists('conformance');
if (!HAVE) console.log(`SKIP conformance suite: ${DIR} is absent`);

/** The suite's one test helper (id 5, "unwind"): returns its argument; 0 ends the program. */
class Unwind extends Error {}
const unwind: HelperFn = (vm) => {
  vm.regs[0] = vm.regs[2]!;
  vm.regs[1] = vm.regs[3]!;
  if (vm.regs[2] === 0 && vm.regs[3] === 0) throw new Unwind();
};

/** Why a case cannot run here, or undefined. */
function exclusion(c: ConformanceCase): string | undefined {
  const insns = conformanceProgram(c);
  if (insns.some((i) => { const k = kindOf(i); return k.k === 'call' && k.target === 'reg'; })) {
    return 'callx (call by register) is not defined by RFC 9669 and the kernel refuses it';
  }
  if (c.result === undefined) return 'no expected result';
  return undefined;
}

function run(c: ConformanceCase, engine: EngineName): bigint {
  const memory = new Memory();
  const helpers: (HelperFn | undefined)[] = [];
  helpers[5] = unwind;
  const vm = createVm(memory, helpers, DEFAULT_BUDGET);
  const prog = prepareProgram(programFromInsns('conformance', conformanceProgram(c)), { handle: () => 0, value: () => ({ region: 0, offset: 0 }) });
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

describe.runIf(HAVE)('bpf_conformance suite in both host engines', () => {
  const files = HAVE ? readdirSync(DIR).filter((f) => f.endsWith('.data')).sort() : [];
  const cases = files.map((f) => parseConformanceFile(readFileSync(join(DIR, f), 'utf8'), f));
  const excluded = cases.map((c) => [c.file, exclusion(c)] as const).filter(([, why]) => why !== undefined);
  const runnable = cases.filter((c) => exclusion(c) === undefined);

  for (const engine of ENGINE_NAMES) {
    it(`${engine}: every applicable program returns the expected r0`, () => {
      const failures: string[] = [];
      for (const c of runnable) {
        try {
          const got = run(c, engine);
          if (got !== c.result) failures.push(`${c.file}: r0 = 0x${got.toString(16)}, expected 0x${c.result!.toString(16)}`);
        } catch (e) {
          failures.push(`${c.file}: ${e instanceof ExecFault ? e.message : String(e)}`);
        }
      }
      console.log(`conformance (${engine}): ${runnable.length - failures.length} of ${cases.length} pass; ${excluded.length} excluded:\n` +
        excluded.map(([f, why]) => `  ${f}: ${why}`).join('\n'));
      expect(failures).toEqual([]);
    });
  }
});
