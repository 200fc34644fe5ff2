/** Test helper: assemble a program, set up a fresh core state, run it, return both. */
import { expect } from 'vitest';
import { CoreError, type CoreErrorKind } from '../../nic-sim/core/errors.js';
import { run, type RunOptions, type RunResult } from '../../nic-sim/core/run.js';
import { createCoreState, type CoreState, type CoreStateOptions } from '../../nic-sim/core/state.js';
import { assemble } from '../../nic-sim/isa/assembler.js';

export interface Ran extends RunResult {
  readonly s: CoreState;
}

export function runAsm(
  source: string,
  init: (s: CoreState) => void = () => {},
  opts: RunOptions & CoreStateOptions = {},
): Ran {
  const s = createCoreState(opts);
  init(s);
  return { s, ...run(assemble(source), s, opts) };
}

/** The CoreError a run raises (fails the test when it raises none, or another error). */
export function runError(
  source: string,
  init: (s: CoreState) => void = () => {},
  opts: RunOptions & CoreStateOptions = {},
): CoreError {
  try {
    runAsm(source, init, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(CoreError);
    return e as CoreError;
  }
  throw new Error('the run did not fail');
}

export function expectError(e: CoreError, kind: CoreErrorKind, message: string): void {
  expect(e.kind).toBe(kind);
  expect(e.message).toBe(message);
}

export const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;
