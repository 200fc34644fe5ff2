/**
 * The card-core executor compiled by basic block, with a timing model's fixed prices
 * (meter.ts StaticPrices) baked in: the simulator's fast path. Each block is a `case`
 * of one `switch` over the PC, blocks that follow each other fall through without a
 * dispatch, and the cycles of a stretch of straight-line code are added to the packet's
 * work (meter.ts TimedWork) in one step — at the stretch's end, before any instruction
 * that can fail, and at every swapping command, where the compute so far becomes a
 * segment and the sleep the next. What it computes is what compile.ts and the
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
import { isBranch } from './classes.js';
import { FLAGS_OUT, PROLOGUE, badReturn, firmwareFloor, firmwareList, insnStatements, routineAtPc, interpreterStep, mayFail, unsupported, type CompileOptions, type Keep } from './compile.js';
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
  /** The compiled stretches' cycles and sleeps so far added to each instruction's, and their counts cleared. */
  foldHotSpots(pcCycles: Float64Array, pcSleep: Float64Array): void;
}

/** A stretch of straight-line code charged at once: its instructions' cycles, and the swap that ends it. */
interface Stretch {
  readonly sites: { readonly pc: number; readonly cycles: number }[];
  readonly sleepPc: number;
  readonly sleep: number;
}

/** Where blocks start: the start address, branch targets, and the instruction after each branch's defer slots. */
function blockStarts(program: readonly Insn[], startPc: number): Set<number> {
  const starts = new Set<number>([startPc]);
  program.forEach((i, pc) => {
    if (i === undefined || !isBranch(i)) return;
    const b = i as Insn & { defer: number; target?: number };
    if (i.cls !== 'br_alu' && b.target !== undefined) starts.add(b.target);
    starts.add(pc + 1 + b.defer);
  });
  return starts;
}

export function compileTimed(program: readonly Insn[], o: CompileOptions & { readonly prices: StaticPrices }): TimedProgram | { readonly unsupported: string } {
  const why = unsupported(program, o);
  if (why !== undefined) return { unsupported: why };
  const prices = o.prices;
  const starts = blockStarts(program, o.startPc);
  const isCode = (pc: number): boolean => program[pc] !== undefined && pc !== o.endPc && !o.firmware.has(pc);
  const stretches: Stretch[] = [];
  const takenSites: { pc: number; cycles: number }[] = [];
  const out: string[] = [];
  let pending: { pc: number; cycles: number }[] = [];

  /** The pending stretch charged (and, with a sleep, ended by the swap of the command at sleepPc). */
  const flush = (sleepPc = -1, sleep = 0): void => {
    const cycles = pending.reduce((n, x) => n + x.cycles, 0);
    if (cycles !== 0 || sleep !== 0) {
      out.push(`${cycles !== 0 ? `W.cur += ${cycles}; W.compute += ${cycles}; ` : ''}FC[${stretches.length}]++;${sleep !== 0 ? ` W.swap(${sleep});` : ''}`);
      stretches.push({ sites: pending, sleepPc, sleep });
    }
    pending = [];
  };
  /** Instructions a block starting at pc runs (its branch's defer slots included). */
  const blockLength = (pc: number): number => {
    let n = 0;
    for (let k = pc; isCode(k) && (k === pc || !starts.has(k)); k++) {
      n++;
      const i = program[k]!;
      if (isBranch(i)) return n + (i as { defer: number }).defer;
    }
    return n;
  };
  /**
   * What the instruction at pc writes besides its destination that is read again: looking
   * ahead through its block, a value is dropped only when an instruction that cannot fail
   * overwrites it before anything reads it (a branch, an instruction that may run
   * interpreted, the block's end and a block start all count as reads).
   */
  const keepAfter = (pc: number): Keep => {
    // undefined: not yet known; true: read first; false: overwritten first.
    let flags: boolean | undefined;
    let prevA: boolean | undefined;
    let prevResult: boolean | undefined;
    for (let k = pc + 1; flags === undefined || prevA === undefined || prevResult === undefined; k++) {
      const i = program[k];
      if (i === undefined || !isCode(k) || starts.has(k) || isBranch(i) || mayFail(i)) break;
      if (i.cls === 'alu') {
        flags ??= i.op === 'add_c' || i.op === 'sub_c';
        prevA ??= false;
        prevResult ??= false;
      } else if (i.cls === 'alu_shf') {
        // ASHR fills from the previous result; an indirect amount is the previous A operand.
        if (i.op === 'ashr') prevResult ??= true;
        if (i.shift === 'indirect') prevA ??= true;
      } else if (i.cls === 'immed') {
        prevResult ??= false;
      }
    }
    return { flags: flags ?? true, prevA: prevA ?? true, prevResult: prevResult ?? true };
  };
  /** One instruction that is not a branch: its statements, cost, command count and swap. */
  const straight = (pc: number, i: Insn): void => {
    if (mayFail(i)) flush();
    out.push(insnStatements(pc, i, keepAfter(pc)), `if (dl !== 0) dl = ${TICK_DELAYS};`);
    pending.push({ pc, cycles: prices.issue(pc, i) });
    if (i.cls === 'cmd') {
      out.push(`CMD[${prices.memoryOf(i)}]++;`);
      if (i.ctxSwap) flush(pc, prices.sleepOf(i));
    }
  };

  for (let pc = 0; pc <= program.length; pc++) {
    if (!isCode(pc)) {
      // The end, a firmware address or no instruction: the dispatch decides.
      flush();
      out.push(`pc = ${pc}; continue;`);
      continue;
    }
    if (starts.has(pc)) {
      flush();
      const n = blockLength(pc);
      out.push(`case ${pc}: W.steps += ${n}; if (W.steps > ${o.stepLimit}) { W.steps -= ${n}; ${FLAGS_OUT} return ${pc}; }`);
    }
    const i = program[pc]!;
    if (!isBranch(i)) {
      straight(pc, i);
      continue;
    }
    const defer = (i as { defer: number }).defer;
    if (mayFail(i)) flush();
    out.push(insnStatements(pc, i), `if (dl !== 0) dl = ${TICK_DELAYS};`);
    pending.push({ pc, cycles: prices.issue(pc, i) });
    const penalty = prices.takenPenalty(defer);
    const charge = penalty !== 0 ? `W.cur += ${penalty}; W.compute += ${penalty}; TK[${takenSites.length}]++; ` : '';
    if (penalty !== 0) takenSites.push({ pc, cycles: penalty });
    // The penalty is the branch's own: charged before a defer slot that could stop the run.
    const slotsMayFail = Array.from({ length: defer }, (_, k) => program[pc + 1 + k]!).some(mayFail);
    if (slotsMayFail && charge) out.push(`if (taken) { ${charge}}`);
    for (let k = 1; k <= defer; k++) straight(pc + k, program[pc + k]!);
    flush();
    out.push(`if (taken) { ${slotsMayFail ? '' : charge}W.callPc = ${pc}; pc = target; continue; }`);
    // Slots that are block starts themselves run again in their own block; here the branch ends its block.
    const slotStarts = Array.from({ length: defer }, (_, k) => pc + 1 + k).some((k) => starts.has(k));
    if (slotStarts) out.push(`pc = ${pc + 1 + defer}; continue;`);
    else pc += defer;
  }

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
  const FC = new Float64Array(stretches.length);
  const TK = new Float64Array(takenSites.length);
  const helpers = { interpret: interpreterStep(program), tick: tickDelays, SH: shift, FWR: firmwareList(o.firmware), PR: prices, badReturn, FC, TK };
  const make = new Function(...Object.keys(helpers), source) as (...args: unknown[]) => TimedProgram['run'];
  return {
    run: make(...Object.values(helpers)),
    foldHotSpots(pcCycles, pcSleep) {
      stretches.forEach((st, f) => {
        const runs = FC[f]!;
        if (runs === 0) return;
        for (const x of st.sites) pcCycles[x.pc]! += runs * x.cycles;
        if (st.sleep !== 0) pcSleep[st.sleepPc]! += runs * st.sleep;
      });
      takenSites.forEach((x, j) => (pcCycles[x.pc]! += TK[j]! * x.cycles));
      FC.fill(0);
      TK.fill(0);
    },
  };
}
