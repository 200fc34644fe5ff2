/**
 * The two host engines behind one call: `interp` (the reference interpreter)
 * and `compiled` (JavaScript generated per program). Both take a prepared
 * program and run it over a Vm whose registers the caller has set.
 */
import { compileProgram, type CompileOptions } from './compiler.js';
import type { ExecProgram } from './exec-program.js';
import { createInterpreter } from './interpreter.js';
import { MAX_LOOPS, type Vm } from './vm.js';

export type EngineName = 'interp' | 'compiled';
export const ENGINE_NAMES: readonly EngineName[] = ['interp', 'compiled'];

/** Default instruction budget per run (Vm.budgetLimit): the verifier's complexity limit. */
export const DEFAULT_BUDGET = 1_000_000;

export type Runner = (vm: Vm) => void;

/** A runner that starts each run with the full budget. */
export function makeRunner(p: ExecProgram, engine: EngineName, opts: CompileOptions = {}): Runner {
  if (engine === 'compiled') {
    const compiled = compileProgram(p, opts);
    return (vm) => {
      vm.budget = vm.budgetLimit;
      vm.mayGoto = MAX_LOOPS;
      compiled(vm);
    };
  }
  const interpreter = createInterpreter(p);
  return (vm) => {
    vm.budget = vm.budgetLimit;
    vm.mayGoto = MAX_LOOPS;
    interpreter(vm);
  };
}
