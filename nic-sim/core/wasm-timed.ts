/**
 * The WebAssembly executor (compile-wasm.ts) bound to one core's state: the module
 * instantiated over the memory that holds the state's registers, LM, CTM and EMEM, and
 * the few things kept apart in JavaScript objects — the condition codes, the
 * previous-ALU values and the packet's work (meter.ts TimedWork) — carried to and from
 * the memory's cells around each run and each call out: a firmware routine (its price
 * and the routine, as the JavaScript executor runs them; or the routine alone, for a
 * call the module priced itself), one instruction the interpreter runs, or segments
 * moved out of a full area. The counts the module keeps in the memory (commands, lock
 * time, firmware cycles and sleep per instruction) are folded into the work's totals and
 * hot spots. It is a `TimedProgram`, as
 * compile-timed.ts's executor is, so a card runs either the same way.
 */
import type { Insn } from '../isa/instructions.js';
import { MAX_TARGET } from '../isa/tables.js';
import { badReturn, interpreterStep, type CompileOptions } from './compile.js';
import type { TimedProgram } from './compile-timed.js';
import { CELL, WORK, compileWasm, type NativeLookup, type PricedCall, type WasmEntry, type WasmExecLayout } from './compile-wasm.js';
import type { StepContext } from './context.js';
import type { StaticPrices, TimedWork } from './meter.js';
import { RETURN_GPR_B } from './run.js';
import type { CoreState } from './state.js';
import { foldPlan } from './timed-plan.js';

export interface WasmTimedOptions extends CompileOptions {
  readonly prices: StaticPrices;
  readonly layout: WasmExecLayout;
  readonly memory: WebAssembly.Memory;
  /** The state and step context whose registers and memories are in `memory`. */
  readonly state: CoreState;
  readonly context: StepContext;
  /** How many memories the work's command counts cover. */
  readonly memories: number;
  /** The packet's entry state, for `runPacket`. */
  readonly entry?: WasmEntry;
  /** Map lookups run in WebAssembly. */
  readonly lookup?: NativeLookup;
  /** Firmware calls priced in WebAssembly. */
  readonly priced?: readonly PricedCall[];
}

/** The image as WebAssembly over `o.memory`, or why it cannot be (the caller runs another executor). */
export function wasmTimed(program: readonly Insn[], o: WasmTimedOptions): TimedProgram | { readonly unsupported: string } {
  const compiled = compileWasm(program, o);
  if ('unsupported' in compiled) return compiled;
  const L = o.layout;
  const b = o.memory.buffer;
  const cells = new Int32Array(b, L.cells, Object.keys(CELL).length);
  const work = new Float64Array(b, L.work, 4);
  const segs = new Float64Array(b, L.segs, L.segCapacity);
  const commands = new Float64Array(b, L.commands, o.memories);
  const fc = new Float64Array(b, L.stretches, compiled.plan.stretches.length);
  const tk = new Float64Array(b, L.taken, compiled.plan.takenSites.length);
  const fwCycles = new Float64Array(b, L.pcCycles, program.length + 1);
  const fwSleep = new Float64Array(b, L.pcSleep, program.length + 1);
  const locks = new Float64Array(b, L.locks, L.lockMaps);
  const s = o.state;
  const step = interpreterStep(program);
  let w: TimedWork | undefined;

  const flagsToCells = (): void => {
    cells[CELL.z] = s.flags.z ? 1 : 0;
    cells[CELL.n] = s.flags.n ? 1 : 0;
    cells[CELL.c] = s.flags.c ? 1 : 0;
    cells[CELL.v] = s.flags.v ? 1 : 0;
    cells[CELL.prevA] = s.prevA;
    cells[CELL.prevResult] = s.prevResult;
  };
  const flagsFromCells = (): void => {
    s.flags.z = cells[CELL.z] !== 0;
    s.flags.n = cells[CELL.n] !== 0;
    s.flags.c = cells[CELL.c] !== 0;
    s.flags.v = cells[CELL.v] !== 0;
    s.prevA = cells[CELL.prevA]! >>> 0;
    s.prevResult = cells[CELL.prevResult]! >>> 0;
  };
  /** The work into the cells, its segments so far into the area (JavaScript keeps them, and says so, when they do not fit). */
  const workToCells = (W: TimedWork): void => {
    work[WORK.cur] = W.cur;
    work[WORK.compute] = W.compute;
    work[WORK.sleep] = W.sleep;
    work[WORK.steps] = W.steps;
    cells[CELL.callPc] = W.callPc;
    const n = W.n;
    if (n <= segs.length) {
      for (let k = 0; k < n; k++) segs[k] = W.segs[k]!;
      W.n = 0;
      cells[CELL.segN] = n;
      cells[CELL.held] = 0;
    } else {
      cells[CELL.segN] = 0;
      cells[CELL.held] = 1;
    }
  };
  /** The segments in the area moved to the work. */
  const spill = (W: TimedWork): void => {
    const n = cells[CELL.segN]!;
    if (n === 0) return;
    W.appendSegments(segs, n);
    cells[CELL.segN] = 0;
    cells[CELL.held] = 1;
  };
  /** The command counts and lock time the module added up, moved to the work's totals. */
  const foldCommands = (W: TimedWork): void => {
    for (let m = 0; m < commands.length; m++) {
      if (commands[m] !== 0) {
        W.commands[m]! += commands[m]!;
        commands[m] = 0;
      }
    }
    for (let j = 0; j < W.locks.length && j < locks.length; j++) {
      if (locks[j] !== 0) {
        W.locks[j]! += locks[j]!;
        locks[j] = 0;
      }
    }
  };
  const workFromCells = (W: TimedWork): void => {
    W.cur = work[WORK.cur]!;
    W.compute = work[WORK.compute]!;
    W.sleep = work[WORK.sleep]!;
    W.steps = work[WORK.steps]!;
    W.callPc = cells[CELL.callPc]!;
    spill(W);
    foldCommands(W);
  };
  /**
   * Whether the cells hold the condition codes and previous-ALU values (the state's copy
   * stale), or the state does (the cells' stale): each side brings the other's up to date
   * before it runs, so that runs driven from outside (`fusion`) sync nothing per packet.
   */
  let cellsOwn = false;
  const toCells = (): void => {
    if (!cellsOwn) {
      flagsToCells();
      cellsOwn = true;
    }
  };
  const toJs = (): void => {
    if (cellsOwn) {
      flagsFromCells();
      cellsOwn = false;
    }
  };

  const instance = new WebAssembly.Instance(compiled.module, {
    env: {
      memory: o.memory,
      fw: (pc: number): number => {
        const W = w!;
        flagsFromCells();
        workFromCells(W);
        const ret = s.gprB[RETURN_GPR_B] as number;
        // The price stands when the routine fails: the run ends with the work as it is then.
        try {
          o.prices.firmwareCall(pc, s, W);
          o.firmware.get(pc)!(s);
          if (ret > MAX_TARGET) badReturn(pc, ret);
        } finally {
          workToCells(W);
        }
        return ret;
      },
      interp: (pc: number): number => {
        flagsFromCells();
        // What the instruction leaves in the flags stands when it fails too (the run then ends with them).
        let out: ReturnType<typeof step>;
        try {
          out = step(o.context, pc);
        } finally {
          flagsToCells();
        }
        return out === undefined ? -1 : (out.target << 1) | (out.taken ? 1 : 0);
      },
      spill: (): void => spill(w!),
      // A call the module priced itself: the routine alone (the condition codes and the work stay in the cells).
      fwRoutine: (pc: number): number => {
        const ret = s.gprB[RETURN_GPR_B] as number;
        o.firmware.get(pc)!(s);
        if (ret > MAX_TARGET) badReturn(pc, ret);
        return ret;
      },
    },
  });
  const run = instance.exports.run as (len: number) => number;
  /** A run (len −1: on the state as it is; otherwise a packet of len bytes, its entry state set first). */
  const runWith = (len: number, W: TimedWork): number => {
    w = W;
    toCells();
    workToCells(W);
    try {
      const resume = run(len);
      if (resume === -1) s.pc = o.endPc;
      return resume;
    } finally {
      toJs();
      workFromCells(W);
    }
  };

  return {
    run: (_s, W) => runWith(-1, W),
    ...(o.entry ? { runPacket: (len: number, W: TimedWork) => runWith(len, W) } : {}),
    ...(o.entry ? {
      fusion: {
        run,
        begin: (W: TimedWork) => {
          w = W;
          toCells();
          W.n = 0;
        },
        toJs,
        takeWork: workFromCells,
      },
    } : {}),
    foldHotSpots: (pcCycles, pcSleep) => {
      if (w !== undefined) foldCommands(w);
      foldPlan(compiled.plan, fc, tk, pcCycles, pcSleep);
      for (let pc = 0; pc < fwCycles.length; pc++) {
        if (fwCycles[pc] !== 0) {
          pcCycles[pc]! += fwCycles[pc]!;
          fwCycles[pc] = 0;
        }
        if (fwSleep[pc] !== 0) {
          pcSleep[pc]! += fwSleep[pc]!;
          fwSleep[pc] = 0;
        }
      }
    },
  };
}
