/**
 * The walk both block-compiled timed executors share (compile-timed.ts writes
 * JavaScript, compile-wasm.ts WebAssembly): the image cut into blocks — a block starts
 * at the start address, at every branch target and after every branch's defer slots,
 * and blocks that follow each other fall through — and each block's instructions in
 * order, with the cycles of straight-line code gathered into stretches charged at once:
 * at a stretch's end, before any instruction that can fail, and at every swapping
 * command, where the compute so far becomes a segment and the sleep the next. What the
 * walk decides (where blocks start, what a stretch charges, which values an instruction
 * leaves for later instructions) is the same for both; an emitter only writes it out.
 */
import type { Insn } from '../isa/instructions.js';
import { isBranch } from './classes.js';
import { mayFail, type CompileOptions, type Keep } from './compile.js';
import type { StaticPrices } from './meter.js';

/** A stretch of straight-line code charged at once: its instructions' cycles, and the swap that ends it. */
export interface Stretch {
  readonly sites: { readonly pc: number; readonly cycles: number }[];
  readonly sleepPc: number;
  readonly sleep: number;
}

/** What an executor writes for each step of the walk, in order. */
export interface TimedEmitter {
  /** A block starting at pc, `n` instructions long (defer slots of its branch included). */
  blockStart(pc: number, n: number): void;
  /** Fallen through to pc, which is the end, a firmware address or no instruction: the dispatch decides. */
  dispatchFrom(pc: number): void;
  /** The instruction at pc: its semantics (a branch decides `taken` and its target); `keep` what it must leave for later. */
  insn(pc: number, i: Insn, keep: Keep): void;
  /** After every instruction: the LM pointers' write delays count down. */
  tick(): void;
  /** A command to memory m. */
  command(m: number): void;
  /** Stretch k charged: its cycles, then (sleep ≠ 0) the swap. */
  stretch(k: number, cycles: number, sleep: number): void;
  /** When the branch took effect, its penalty (taken site j), charged before defer slots that could stop the run. */
  chargeIfTaken(j: number, cycles: number): void;
  /** The branch at pc took effect: its penalty (site j, unless charged already) and the jump to its target. */
  takeBranch(pc: number, j: number | undefined, cycles: number): void;
  /** Go on at pc through the dispatch (a defer slot was a block start of its own). */
  jump(pc: number): void;
}

/** Where blocks start: the start address, branch targets, and the instruction after each branch's defer slots. */
export function blockStarts(program: readonly Insn[], startPc: number): Set<number> {
  const starts = new Set<number>([startPc]);
  program.forEach((i, pc) => {
    if (i === undefined || !isBranch(i)) return;
    const b = i as Insn & { defer: number; target?: number };
    if (i.cls !== 'br_alu' && b.target !== undefined) starts.add(b.target);
    starts.add(pc + 1 + b.defer);
  });
  return starts;
}

/** The stretches and taken-branch sites the walk charged, for the hot spots. */
export interface TimedPlan {
  readonly stretches: readonly Stretch[];
  readonly takenSites: readonly { readonly pc: number; readonly cycles: number }[];
}

/** Walk the image block by block, telling `e` what to write; what it charged where. */
export function walkTimed(program: readonly Insn[], o: CompileOptions & { readonly prices: StaticPrices }, e: TimedEmitter): TimedPlan {
  const prices = o.prices;
  const starts = blockStarts(program, o.startPc);
  const isCode = (pc: number): boolean => program[pc] !== undefined && pc !== o.endPc && !o.firmware.has(pc);
  const stretches: Stretch[] = [];
  const takenSites: { pc: number; cycles: number }[] = [];
  let pending: { pc: number; cycles: number }[] = [];

  /** The pending stretch charged (and, with a sleep, ended by the swap of the command at sleepPc). */
  const flush = (sleepPc = -1, sleep = 0): void => {
    const cycles = pending.reduce((n, x) => n + x.cycles, 0);
    if (cycles !== 0 || sleep !== 0) {
      e.stretch(stretches.length, cycles, sleep);
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
    e.insn(pc, i, keepAfter(pc));
    e.tick();
    pending.push({ pc, cycles: prices.issue(pc, i) });
    if (i.cls === 'cmd') {
      e.command(prices.memoryOf(i));
      if (i.ctxSwap) flush(pc, prices.sleepOf(i));
    }
  };

  for (let pc = 0; pc <= program.length; pc++) {
    if (!isCode(pc)) {
      // The end, a firmware address or no instruction: the dispatch decides.
      flush();
      e.dispatchFrom(pc);
      continue;
    }
    if (starts.has(pc)) {
      flush();
      e.blockStart(pc, blockLength(pc));
    }
    const i = program[pc]!;
    if (!isBranch(i)) {
      straight(pc, i);
      continue;
    }
    const defer = (i as { defer: number }).defer;
    if (mayFail(i)) flush();
    e.insn(pc, i, keepAfter(pc));
    e.tick();
    pending.push({ pc, cycles: prices.issue(pc, i) });
    const penalty = prices.takenPenalty(defer);
    const site = penalty !== 0 ? takenSites.length : undefined;
    if (penalty !== 0) takenSites.push({ pc, cycles: penalty });
    // The penalty is the branch's own: charged before a defer slot that could stop the run.
    const slotsMayFail = Array.from({ length: defer }, (_, k) => program[pc + 1 + k]!).some(mayFail);
    if (slotsMayFail && site !== undefined) e.chargeIfTaken(site, penalty);
    for (let k = 1; k <= defer; k++) straight(pc + k, program[pc + k]!);
    flush();
    e.takeBranch(pc, slotsMayFail ? undefined : site, penalty);
    // Slots that are block starts themselves run again in their own block; here the branch ends its block.
    const slotStarts = Array.from({ length: defer }, (_, k) => pc + 1 + k).some((k) => starts.has(k));
    if (slotStarts) e.jump(pc + 1 + defer);
    else pc += defer;
  }
  return { stretches, takenSites };
}

/** The stretches' and taken sites' counts (run so far) turned into cycles and sleep per instruction, added to the work's. */
export function foldPlan(plan: TimedPlan, fc: Float64Array, tk: Float64Array, pcCycles: Float64Array, pcSleep: Float64Array): void {
  plan.stretches.forEach((st, f) => {
    const runs = fc[f]!;
    if (runs === 0) return;
    for (const x of st.sites) pcCycles[x.pc]! += runs * x.cycles;
    if (st.sleep !== 0) pcSleep[st.sleepPc]! += runs * st.sleep;
  });
  plan.takenSites.forEach((x, j) => (pcCycles[x.pc]! += tk[j]! * x.cycles));
  fc.fill(0);
  tk.fill(0);
}
