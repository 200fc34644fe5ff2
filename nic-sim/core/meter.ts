/**
 * What a timing model sees of a run: every instruction as it completes (with whether
 * it was a branch that took effect and how many defer slots it had), every memory
 * command (and whether the thread swaps out until its signal), and every firmware
 * routine the run enters (before it runs, so that the state still holds its
 * arguments). The executor calls a meter when one is given and never reads back from
 * it: time does not change what a program computes.
 *
 * A timing model whose prices are fixed per instruction (`StaticPrices`) can instead
 * be baked into the block-compiled executor (compile-timed.ts), which then adds the
 * cycles of whole stretches of code at once into a `TimedWork`, the same record the
 * per-instruction meter fills.
 */
import type { CmdInsn, Insn } from '../isa/instructions.js';
import type { CoreState } from './state.js';

export interface Meter {
  step(pc: number, insn: Insn, taken: boolean, defer: number): void;
  command(pc: number, insn: CmdInsn): void;
  firmware(address: number, s: CoreState): void;
}

/** A timing model's prices, the same every time an instruction runs. */
export interface StaticPrices {
  /** Cycles the instruction at pc costs when it completes. */
  issue(pc: number, insn: Insn): number;
  /** Extra cycles when the branch at pc takes effect with `defer` slots. */
  takenPenalty(defer: number): number;
  /** Which memory (an index into the work's `commands`) a command goes to, and how long its thread sleeps when it swaps. */
  memoryOf(insn: CmdInsn): number;
  sleepOf(insn: CmdInsn): number;
  /** A firmware routine at `address` is entered (called from the branch at `work.callPc`): its cost added to `work`. */
  firmwareCall(address: number, s: CoreState, work: TimedWork): void;
  /** What `firmwareCall` charges for the routine at `address` on table id `table` (null: the call fails), when the model can say. */
  firmwarePrice?(address: number, table: number): FirmwarePrice | null;
}

/**
 * A firmware call's price: its cycles, the reads and writes of the map's memory (each a
 * swap, sleeping readSleep or writeSleep; counted as commands to `memory`, an index into
 * the work's `commands`), the lock time, the map.
 */
export interface FirmwarePrice {
  readonly cycles: number;
  readonly reads: number;
  readonly writes: number;
  readonly lockCycles: number;
  readonly map: number;
  readonly memory: number;
  readonly readSleep: number;
  readonly writeSleep: number;
}

/** A meter with fixed prices, filling `work` either way it is told of a run. */
export interface TimedMeter extends Meter, StaticPrices {
  readonly work: TimedWork;
}

/**
 * One packet's work as a timing model leaves it — compute, then for each swap the
 * cycles the thread sleeps, then compute again (`segs[0 … n)`, odd length once ended) —
 * and what the model adds up over every packet: commands per memory, lock cycles per
 * map, and cycles and sleep charged to single instructions (the rest of the hot
 * spots, for compiled code, is kept by the compiled run per stretch of code).
 */
export class TimedWork {
  segs = new Float64Array(16);
  n = 0;
  /** Compute since the last swap; this packet's compute and sleep cycles; instructions run. */
  cur = 0;
  compute = 0;
  sleep = 0;
  steps = 0;
  /** The last branch that took effect (a firmware call's cycles are charged to it). */
  callPc = 0;
  readonly commands: Float64Array;
  readonly locks: Float64Array;
  readonly pcCycles: Float64Array;
  readonly pcSleep: Float64Array;

  constructor(memories: number, maps: number, programLength: number) {
    this.commands = new Float64Array(memories);
    this.locks = new Float64Array(maps);
    this.pcCycles = new Float64Array(programLength);
    this.pcSleep = new Float64Array(programLength);
  }

  /** A new packet, starting with `cycles` of compute. */
  begin(cycles: number): void {
    this.n = 0;
    this.cur = cycles;
    this.compute = cycles;
    this.sleep = 0;
    this.steps = 0;
  }

  /** `cycles` more compute. */
  add(cycles: number): void {
    this.cur += cycles;
    this.compute += cycles;
  }

  /** The thread sleeps `cycles`: the compute so far is one segment, the sleep the next. */
  swap(cycles: number): void {
    if (this.n + 2 > this.segs.length) this.grow();
    this.segs[this.n++] = this.cur;
    this.segs[this.n++] = cycles;
    this.cur = 0;
    this.sleep += cycles;
  }

  /** The packet ends with `cycles` more compute: the last segment. */
  end(cycles: number): void {
    this.add(cycles);
    if (this.n + 1 > this.segs.length) this.grow();
    this.segs[this.n++] = this.cur;
  }

  /** Segments `from[0 … count)` recorded elsewhere (a WebAssembly run's area) added after these. */
  appendSegments(from: Float64Array, count: number): void {
    while (this.n + count > this.segs.length) this.grow();
    const segs = this.segs;
    for (let k = 0; k < count; k++) segs[this.n + k] = from[k]!;
    this.n += count;
  }

  /** The packet's segments (a copy). */
  segments(): number[] {
    return Array.from(this.segs.subarray(0, this.n));
  }

  private grow(): void {
    const g = new Float64Array(this.segs.length * 2);
    g.set(this.segs);
    this.segs = g;
  }
}
