/**
 * The executor of one card program on one thread (docs/nic-isa.md "Semantics"): fetch
 * at the PC, run the instruction's class function, then move on — through defer
 * slots, branch targets and firmware routines — until the run ends.
 *
 * How a run ends (this module's convention): it stops when the PC reaches `endPc`
 * (default: the program's length, i.e. falling off the end) at an instruction
 * boundary, outside any defer slots; the instruction at `endPc`, if any, does not
 * run. The JIT emits its outro to branch there.
 *
 * Defer slots: a branch with `defer[n]` runs the next n instructions, then continues at
 * its target if it was taken (the condition is read at the branch). A command with
 * `ctx_swap` and `defer[n]` runs its n slots and then "sleeps" — here the command has
 * already completed, so the thread simply goes on; the swap is counted. Defer slots
 * (of a branch or of a command — executor decision) may not hold a branch or a
 * swapping command, and may not reach `endPc`, a firmware address or the program's end.
 *
 * Firmware routines: `firmware` maps an address to a TypeScript function over the
 * state. When the PC reaches such an address (after any defer slots), the return
 * address is read from gprB_0 (the helper-call convention: `immed[gprB_0, ret]` in the
 * call's defer slots), the routine runs, and the run continues at the return address —
 * as if the firmware had ended with `rtn[gprB_0]`. Routines are not instructions and
 * do not count as steps.
 *
 * Ending with a `local_csr_rd` still waiting for its `immed`, or inside a multiply
 * sequence, is an error.
 *
 * Errors are `CoreError`s naming the PC and the instruction: the step limit, a PC
 * outside the program, memory outside a region, and every executor error the ISA
 * document names.
 */
import type { Insn, InsnOf } from '../isa/instructions.js';
import { MAX_TARGET } from '../isa/tables.js';
import type { BranchOutcome } from './branch.js';
import { EXEC, isBranch, type ExecFn } from './classes.js';
import { StepContext, insnText } from './context.js';
import { createCounters, type RunCounters } from './counters.js';
import { CoreError } from './errors.js';
import { mulOpen } from './mul.js';
import { applyPostMods } from './operands.js';
import type { Meter } from './meter.js';
import { tickDelays, type CoreState } from './state.js';

/** A firmware routine: runs natively on the calling thread's state (and its LM / memories). */
export type FirmwareRoutine = (s: CoreState) => void;

export const DEFAULT_STEP_LIMIT = 100_000;
/** The GPR (bank B) holding a firmware call's return address. */
export const RETURN_GPR_B = 0;

export interface RunOptions {
  /** The run ends when the PC reaches this address; default the program's length. */
  readonly endPc?: number;
  /** Where to start; default `state.pc`. */
  readonly startPc?: number;
  /** Instructions the run may execute before it fails; default 100,000. */
  readonly stepLimit?: number;
  /** Firmware routines by address. */
  readonly firmware?: ReadonlyMap<number, FirmwareRoutine>;
  /** Count into these (so that a caller still has them when the run fails); fresh ones otherwise. */
  readonly counters?: RunCounters;
  /** Called before each instruction runs, with its PC and the state (a validator's trace). */
  readonly onStep?: (pc: number, s: CoreState) => void;
  /** Told of every instruction, command and firmware routine (a timing model). */
  readonly meter?: Meter;
  /** A step context for `s` to reuse (a card running packet after packet saves making one each run). */
  readonly context?: StepContext;
}

export interface RunResult {
  /** The PC the run ended at (its `endPc`). */
  readonly pc: number;
  readonly counters: RunCounters;
}

/** The one instruction `local_csr_rd` may be followed by: `immed[dst, 0]`. */
const isCsrImmed = (i: Insn): boolean =>
  i.cls === 'immed' && i.width === 'all' && !i.invert && i.shift === 0 && i.value === 0;

export function run(program: readonly Insn[], s: CoreState, opts: RunOptions = {}): RunResult {
  const endPc = opts.endPc ?? program.length;
  const limit = opts.stepLimit ?? DEFAULT_STEP_LIMIT;
  const firmware = opts.firmware;
  const onStep = opts.onStep;
  const meter = opts.meter;
  const counters = opts.counters ?? createCounters();
  const step = opts.context?.s === s ? opts.context : new StepContext(s);
  let pc = opts.startPc ?? s.pc;
  /** Defer slots still to run, the instruction that opened them, and the taken branch's target. */
  let slots = 0;
  let slotOwner = -1;
  let pending: number | undefined;
  /** LM pointers still within their write delay (none: the per-step countdown is skipped). */
  let delays = tickDelays(s.lmDelay, false);
  /** Below the lowest firmware address no PC is a routine's (the common case, one compare). */
  let firmwareFrom = Infinity;
  if (firmware) for (const a of firmware.keys()) if (a < firmwareFrom) firmwareFrom = a;

  for (;;) {
    if (slots === 0) {
      const routine = pc >= firmwareFrom ? firmware!.get(pc) : undefined;
      if (routine) {
        const ret = s.gprB[RETURN_GPR_B] as number;
        meter?.firmware(pc, s);
        routine(s);
        counters.firmwareCalls++;
        if (ret > MAX_TARGET) {
          throw new CoreError('bad-pc', `firmware routine at ${pc} returns to 0x${ret.toString(16)}, above 0x${MAX_TARGET.toString(16)}`, pc, '');
        }
        pc = ret;
        continue;
      }
      if (pc === endPc) {
        if (s.csrRead !== undefined) throw new CoreError('hazard', 'the run ends right after a local_csr_rd', pc, '');
        if (mulOpen(s.mul)) throw new CoreError('hazard', 'the run ends inside a multiply sequence', pc, '');
        break;
      }
    } else if (pc === endPc || (pc >= firmwareFrom && firmware!.has(pc))) {
      throw new CoreError('hazard', `defer slot of pc ${slotOwner} reaches ${pc === endPc ? 'the end address' : 'a firmware address'}`, pc, '');
    }
    const insn = program[pc];
    if (insn === undefined) {
      throw new CoreError('bad-pc', `pc is outside the program (${program.length} instructions)${slots > 0 ? ` in a defer slot of pc ${slotOwner}` : ''}`, pc, '');
    }
    if (counters.steps >= limit) {
      throw new CoreError('step-limit', `step limit of ${limit} instructions reached before the end address ${endPc}`, pc, insnText(insn));
    }
    if (onStep !== undefined) onStep(pc, s);
    const x = step.at(pc, insn);
    if (slots > 0 && (isBranch(insn) || (insn.cls === 'cmd' && insn.ctxSwap))) {
      x.fail('hazard', `a ${isBranch(insn) ? 'branch' : 'context-swapping command'} in a defer slot of pc ${slotOwner}`);
    }
    if (s.csrRead !== undefined && !isCsrImmed(insn)) x.fail('hazard', 'local_csr_rd must be followed by immed[dst, 0]');
    if (mulOpen(s.mul) && insn.cls !== 'mul') x.fail('hazard', 'a multiply sequence is interrupted');

    const out = (EXEC[insn.cls] as ExecFn<Insn['cls']>)(x, insn as InsnOf<Insn['cls']>) as BranchOutcome | undefined;
    applyPostMods(x);
    if (insn.cls === 'local_csr' || delays > 0) delays = tickDelays(s.lmDelay);
    if (insn.cls !== 'mul' && s.mul.k === 'after-last') s.mul = { k: 'idle' };
    counters.steps++;
    counters.byClass[insn.cls]++;

    let next = pc + 1;
    if (slots > 0) {
      slots--;
      if (slots === 0 && pending !== undefined) {
        next = pending;
        pending = undefined;
      }
    }
    if (meter !== undefined) {
      meter.step(pc, insn, out !== undefined && out.taken, out?.defer ?? 0);
      if (insn.cls === 'cmd') meter.command(pc, insn);
    }
    if (out) {
      if (out.taken) counters.branchesTaken++;
      if (out.defer > 0) {
        slots = out.defer;
        slotOwner = pc;
        pending = out.taken ? out.target : undefined;
      } else if (out.taken) {
        next = out.target;
      }
    } else if (insn.cls === 'cmd') {
      counters.commands[insn.target][insn.action]++;
      if (insn.ctxSwap) {
        counters.ctxSwaps++;
        if (insn.defer > 0) {
          slots = insn.defer;
          slotOwner = pc;
        }
      }
    }
    pc = next;
    s.pc = pc;
  }
  s.pc = pc;
  return { pc, counters };
}
