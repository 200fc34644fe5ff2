/**
 * The card-core executor compiled by basic block, with a timing model's fixed prices
 * (meter.ts StaticPrices) baked in, as JavaScript. The blocks and stretches are
 * timed-plan.ts's; each block is a `case` of one `switch` over the PC, blocks that
 * follow each other fall through without a dispatch, and the cycles of a stretch are
 * added to the packet's work (meter.ts TimedWork) in one step. What it computes is what compile.ts and the
 * interpreter compute (the instructions' statements are compile.ts's); what it charges
 * is what the per-instruction meter charges, instruction by instruction, since a
 * stretch is cut before anything that could stop the run. For the hot spots each
 * stretch counts how often it ran and each branch how often it took effect with a
 * penalty; `foldHotSpots` turns the counts into cycles per instruction.
 *
 * Two things it leaves to the interpreter, by returning the PC to go on from: a block
 * the step limit ends inside (the interpreter then fails at the exact instruction), and
 * an entry that is not a block's start (a firmware routine returning, or a computed
 * branch landing, mid-block). Images compile.ts cannot compile are not compiled here
 * either.
 *
 * The generated source holds only numbers and names this generator made.
 */
import type { Insn } from '../isa/instructions.js';
import { MAX_TARGET } from '../isa/tables.js';
import type { StepContext } from './context.js';
import { FLAGS_OUT, PROLOGUE, badReturn, firmwareFloor, firmwareList, insnStatements, routineAtPc, interpreterStep, unsupported, type CompileOptions } from './compile.js';
import { foldPlan, walkTimed } from './timed-plan.js';
import { RETURN_GPR_B } from './run.js';
import type { StaticPrices, TimedWork } from './meter.js';
import { shift } from './shifter.js';
import { TICK_DELAYS, tickDelays, type CoreState } from './state.js';

export interface TimedProgram {
  /**
   * Run a packet from the start address on `s`, charging `work`: −1 when the run reached
   * the end address, otherwise the PC at which the interpreter must go on (with
   * `work.steps` instructions already run).
   */
  run(s: CoreState, work: TimedWork, ctx: StepContext): number;
  /**
   * The same for a packet of `len` bytes already in packet memory, the executor setting
   * the entry state itself (only executors made with an entry description have it).
   */
  runPacket?(len: number, work: TimedWork): number;
  /** The compiled stretches' cycles and sleeps so far added to each instruction's, and their counts cleared (and any totals still held apart added to the work's). */
  foldHotSpots(pcCycles: Float64Array, pcSleep: Float64Array): void;
  /** The WebAssembly executor's `run(len)` for another module to call, when it has one (wasm-timed.ts). */
  readonly fusion?: ExecutorFusion;
}

/**
 * What a module that runs the executor itself (nic-sim/replay/packet-path.ts) needs: the
 * compiled `run(len)` (entry state set, −1 at the end, else the PC the interpreter goes
 * on at), and the hand-offs between the executor's cells and JavaScript. Between
 * `begin` and the next `toJs`, the condition codes and previous-ALU values live in the
 * cells and the packet's work in the work cells and segment area.
 */
export interface ExecutorFusion {
  readonly run: (len: number) => number;
  /** Before a packet run through `run`: the cells take over the state's condition codes, and calls out charge `work` (its segments cleared). */
  begin(work: TimedWork): void;
  /** The state's condition codes and previous-ALU values brought up to date (before JavaScript runs on the state). */
  toJs(): void;
  /** The packet's work as the cells hold it moved into `work` (before JavaScript finishes the packet). */
  takeWork(work: TimedWork): void;
}

/** A taken branch's penalty charged, and counted at its site j (for the hot spots). */
const charge = (j: number, cycles: number): string => `W.cur += ${cycles}; W.compute += ${cycles}; TK[${j}]++; `;

export function compileTimed(program: readonly Insn[], o: CompileOptions & { readonly prices: StaticPrices }): TimedProgram | { readonly unsupported: string } {
  const why = unsupported(program, o);
  if (why !== undefined) return { unsupported: why };
  const out: string[] = [];
  const plan = walkTimed(program, o, {
    blockStart: (pc, n) => out.push(`case ${pc}: W.steps += ${n}; if (W.steps > ${o.stepLimit}) { W.steps -= ${n}; ${FLAGS_OUT} return ${pc}; }`),
    dispatchFrom: (pc) => out.push(`pc = ${pc}; continue;`),
    insn: (pc, i, keep) => out.push(insnStatements(pc, i, keep)),
    tick: () => out.push(`if (dl !== 0) dl = ${TICK_DELAYS};`),
    command: (m) => out.push(`CMD[${m}]++;`),
    stretch: (k, cycles, sleep) => out.push(`${cycles !== 0 ? `W.cur += ${cycles}; W.compute += ${cycles}; ` : ''}FC[${k}]++;${sleep !== 0 ? ` W.swap(${sleep});` : ''}`),
    chargeIfTaken: (j, cycles) => out.push(`if (taken) { ${charge(j, cycles)}}`),
    takeBranch: (pc, j, cycles) => out.push(`if (taken) { ${j === undefined ? '' : charge(j, cycles)}W.callPc = ${pc}; pc = target; continue; }`),
    jump: (pc) => out.push(`pc = ${pc}; continue;`),
  });

  const firmwareFrom = firmwareFloor(o.firmware);
  const source = `"use strict";
return function timedRun(s, W, ctx) {
  ${PROLOGUE}
  const CMD = W.commands;
  let pc = ${o.startPc}, dl = tick(D, false);
  for (;;) {
    if (pc >= ${Number.isFinite(firmwareFrom) ? firmwareFrom : 'Infinity'}) {
      ${routineAtPc(o.firmware)}
      if (routine !== undefined) {
        const ret = B[${RETURN_GPR_B}];
        ${FLAGS_OUT}
        PR.firmwareCall(pc, s, W);
        routine(s);
        if (ret > ${MAX_TARGET}) badReturn(pc, ret);
        pc = ret;
        continue;
      }
    }
    if (pc === ${o.endPc}) { ${FLAGS_OUT} s.pc = pc; return -1; }
    switch (pc) {
      case -1: return -1;
      ${out.join('\n      ')}
      default: ${FLAGS_OUT} return pc;
    }
  }
};`;
  const FC = new Float64Array(plan.stretches.length);
  const TK = new Float64Array(plan.takenSites.length);
  const helpers = { interpret: interpreterStep(program), tick: tickDelays, SH: shift, FWR: firmwareList(o.firmware), PR: o.prices, badReturn, FC, TK };
  const make = new Function(...Object.keys(helpers), source) as (...args: unknown[]) => TimedProgram['run'];
  return {
    run: make(...Object.values(helpers)),
    foldHotSpots: (pcCycles, pcSleep) => foldPlan(plan, FC, TK, pcCycles, pcSleep),
  };
}
