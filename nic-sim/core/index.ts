/**
 * The card-core executor (docs/nic-isa.md "Semantics"): one program, one thread, at
 * the instruction level — registers, local memory, transfer registers, memory
 * commands completed synchronously, firmware routines as TypeScript functions.
 */
export { run, DEFAULT_STEP_LIMIT, RETURN_GPR_B, type FirmwareRoutine, type RunOptions, type RunResult } from './run.js';
export { createCoreState, type CoreState, type CoreStateOptions, type Flags, type Memories } from './state.js';
export type { Meter } from './meter.js';
export { createCounters, resetCounters, type RunCounters } from './counters.js';
export { CoreError, type CoreErrorKind } from './errors.js';
export { StepContext } from './context.js';
export { ALU_TABLE } from './alu.js';
export { BR_CONDITION } from './branch.js';
