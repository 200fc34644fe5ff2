/**
 * The meter the card runs each packet under (nic-sim/core/meter.ts): it prices what
 * the executor reports with the cycle table and firmware costs, and leaves the
 * packet's work as the engine model takes it — compute, then for each swapping
 * memory command the cycles the thread sleeps, then compute again — together with
 * the commands it sent to each memory and the time it held each map's lock. Across
 * packets it sums the cycles (and the sleeps) of every card instruction: the hot spots.
 */
import type { TimingModel } from '../../caps/profile.js';
import type { Meter } from '../core/meter.js';
import type { CoreState } from '../core/state.js';
import type { CmdInsn, Insn } from '../isa/instructions.js';
import { COMMAND_OP, type CycleTable, type MemoryOp } from './cycle-table.js';
import { firmwareCost } from './firmware-costs.js';

/** One packet's work on an engine: compute, sleep, compute, … compute (odd length, all cycles). */
export type WorkSegments = readonly number[];

export interface MeterMaps {
  /** The map a firmware call's table id names: its index and type; undefined for an id the card does not have. */
  mapOfTable(table: number): { readonly index: number; readonly type: number } | undefined;
  readonly count: number;
}

/** The GPR holding a firmware call's table id (bank A; nic-sim/firmware/routines.ts FW_REG.TABLE_ID). */
const TABLE_ID_GPR = 0;

export class PacketMeter implements Meter {
  /** Work of the packet being run. */
  private segs: number[] = [];
  private cur = 0;
  /** The last branch that took effect: a firmware call's own instruction (its defer slots run after it). */
  private callPc = 0;
  /** This packet: engine cycles, sleeping cycles, commands per memory, lock cycles per map. */
  compute = 0;
  sleep = 0;
  readonly commands: Float64Array;
  readonly locks: Float64Array;
  /** All packets so far: engine cycles and sleeping cycles charged to each card instruction. */
  readonly pcCycles: Float64Array;
  readonly pcSleep: Float64Array;
  /** Each card instruction's issue cycles, looked up once (−1: not yet). */
  private readonly issueAt: Float64Array;

  constructor(
    readonly table: CycleTable,
    private readonly timing: TimingModel,
    programLength: number,
    private readonly helperAt: ReadonlyMap<number, number>,
    private readonly maps: MeterMaps,
  ) {
    this.commands = new Float64Array(table.memories.length);
    this.locks = new Float64Array(maps.count);
    this.pcCycles = new Float64Array(programLength);
    this.pcSleep = new Float64Array(programLength);
    this.issueAt = new Float64Array(programLength).fill(-1);
  }

  /** Start a packet with the firmware's receive work. */
  begin(rxCycles: number): void {
    this.segs = [];
    this.cur = rxCycles;
    this.compute = rxCycles;
    this.sleep = 0;
    this.commands.fill(0);
    this.locks.fill(0);
  }

  /** End the packet with the firmware's work for its action; its segments. */
  end(tailCycles: number): WorkSegments {
    this.cur += tailCycles;
    this.compute += tailCycles;
    this.segs.push(this.cur);
    return this.segs;
  }

  step(pc: number, insn: Insn, taken: boolean, defer: number): void {
    let issue = this.issueAt[pc]!;
    if (issue < 0) issue = this.issueAt[pc] = this.table.issue(insn);
    const c = taken ? issue + this.table.takenPenalty(defer) : issue;
    this.cur += c;
    this.compute += c;
    this.pcCycles[pc]! += c;
    if (taken) this.callPc = pc;
  }

  command(pc: number, insn: CmdInsn): void {
    const m = this.table.targetMemory[insn.target];
    this.commands[m]!++;
    if (insn.ctxSwap) this.pcSleep[pc]! += this.swap(m, COMMAND_OP[insn.action]);
  }

  firmware(address: number, s: CoreState): void {
    const helper = this.helperAt.get(address);
    const map = this.maps.mapOfTable(s.gprA[TABLE_ID_GPR] as number);
    if (helper === undefined || map === undefined) return; // the routine fails: the run ends in an exception
    const cost = firmwareCost(helper, map.type, this.timing);
    const pc = this.callPc;
    this.cur += cost.cycles;
    this.compute += cost.cycles;
    this.pcCycles[pc]! += cost.cycles;
    const m = this.table.mapMemory;
    this.commands[m]! += cost.reads + cost.writes;
    for (let k = 0; k < cost.reads; k++) this.pcSleep[pc]! += this.swap(m, 'read');
    for (let k = 0; k < cost.writes; k++) this.pcSleep[pc]! += this.swap(m, 'write');
    this.locks[map.index]! += cost.lockCycles;
  }

  /** The thread sleeps on a command: the compute so far is one segment, the sleep the next. */
  private swap(m: number, op: MemoryOp): number {
    const w = this.table.wait(m, op);
    this.segs.push(this.cur, w);
    this.cur = 0;
    this.sleep += w;
    return w;
  }
}
