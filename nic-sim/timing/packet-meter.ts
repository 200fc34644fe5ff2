/**
 * The meter the card runs each packet under: it prices what the executor does with the
 * cycle table and firmware costs and leaves the packet's work as the engine model takes
 * it (nic-sim/core/meter.ts TimedWork) — compute, then for each swapping memory command
 * the cycles the thread sleeps, then compute again — and adds up, over every packet, the
 * commands sent to each memory, the time each map's lock was held, and the cycles and
 * sleeps of every card instruction (the hot spots). Its prices are fixed per
 * instruction, so it serves both executors: the interpreter tells it of each
 * instruction (`Meter`), the block-compiled executor bakes its prices in
 * (`StaticPrices`) and tells it only of firmware calls.
 */
import type { TimingModel } from '../../caps/profile.js';
import { TimedWork, type FirmwarePrice, type TimedMeter } from '../core/meter.js';
import type { CoreState } from '../core/state.js';
import type { CmdInsn, Insn } from '../isa/instructions.js';
import { COMMAND_OP, type CycleTable } from './cycle-table.js';
import { firmwareCost } from './firmware-costs.js';

/** One packet's work on an engine: compute, sleep, compute, … compute (odd length, all cycles). */
export type WorkSegments = ArrayLike<number>;

export interface MeterMaps {
  /** The map a firmware call's table id names: its index and type; undefined for an id the card does not have. */
  mapOfTable(table: number): { readonly index: number; readonly type: number } | undefined;
  readonly count: number;
}


/** The GPR holding a firmware call's table id (bank A; nic-sim/firmware/routines.ts FW_REG.TABLE_ID). */
const TABLE_ID_GPR = 0;

/** A call's key among the prices: a small integer for the usual addresses and table ids (a faster map key), a wide one otherwise. */
const priceKey = (address: number, table: number): number =>
  address < 0x40000 && table < 0x1000 ? address * 0x1000 + table : -(address * 0x100000000 + table) - 1;

export class PacketMeter implements TimedMeter {
  /** The packet being run, and the totals over every packet. */
  readonly work: TimedWork;
  /** Each card instruction's issue cycles, looked up once (−1: not yet). */
  private readonly issueAt: Float64Array;
  /** Firmware calls' prices by routine address and table id, worked out once (null: the call fails); the last one asked for. */
  private readonly prices = new Map<number, FirmwarePrice | null>();
  private lastKey = NaN;
  private lastPrice: FirmwarePrice | null = null;

  constructor(
    readonly table: CycleTable,
    private readonly timing: TimingModel,
    programLength: number,
    private readonly helperAt: ReadonlyMap<number, number>,
    private readonly maps: MeterMaps,
  ) {
    this.work = new TimedWork(table.memories.length, maps.count, programLength);
    this.issueAt = new Float64Array(programLength).fill(-1);
  }

  /** This packet's compute and sleep cycles. */
  get compute(): number {
    return this.work.compute;
  }

  get sleep(): number {
    return this.work.sleep;
  }

  /** Over every packet: commands per memory, lock cycles per map, cycles and sleep per card instruction. */
  get commands(): Float64Array {
    return this.work.commands;
  }

  get locks(): Float64Array {
    return this.work.locks;
  }

  get pcCycles(): Float64Array {
    return this.work.pcCycles;
  }

  get pcSleep(): Float64Array {
    return this.work.pcSleep;
  }

  /** Start a packet with the firmware's receive work. */
  begin(rxCycles: number): void {
    this.work.begin(rxCycles);
  }

  /** End the packet with the firmware's work for its action; its segments (valid until the next packet). */
  end(tailCycles: number): WorkSegments {
    this.work.end(tailCycles);
    return this.work.segs.subarray(0, this.work.n);
  }

  issue(pc: number, insn: Insn): number {
    let issue = this.issueAt[pc]!;
    if (issue < 0) issue = this.issueAt[pc] = this.table.issue(insn);
    return issue;
  }

  takenPenalty(defer: number): number {
    return this.table.takenPenalty(defer);
  }

  memoryOf(insn: CmdInsn): number {
    return this.table.targetMemory[insn.target];
  }

  sleepOf(insn: CmdInsn): number {
    return insn.ctxSwap ? this.table.wait(this.memoryOf(insn), COMMAND_OP[insn.action]) : 0;
  }

  step(pc: number, insn: Insn, taken: boolean, defer: number): void {
    const w = this.work;
    const c = taken ? this.issue(pc, insn) + this.table.takenPenalty(defer) : this.issue(pc, insn);
    w.add(c);
    w.pcCycles[pc]! += c;
    if (taken) w.callPc = pc;
  }

  command(pc: number, insn: CmdInsn): void {
    const w = this.work;
    w.commands[this.memoryOf(insn)]!++;
    if (insn.ctxSwap) {
      const sleep = this.sleepOf(insn);
      w.swap(sleep);
      w.pcSleep[pc]! += sleep;
    }
  }

  firmware(address: number, s: CoreState): void {
    this.firmwareCall(address, s, this.work);
  }

  firmwareCall(address: number, s: CoreState, w: TimedWork): void {
    const table = s.gprA[TABLE_ID_GPR] as number;
    const key = priceKey(address, table);
    let price = this.lastPrice;
    if (key !== this.lastKey) {
      this.lastKey = key;
      this.lastPrice = price = this.firmwarePrice(address, table);
    }
    if (price === null) return; // the routine fails: the run ends in an exception
    const pc = w.callPc;
    w.add(price.cycles);
    w.pcCycles[pc]! += price.cycles;
    w.commands[price.memory]! += price.reads + price.writes;
    for (let k = 0; k < price.reads + price.writes; k++) {
      const sleep = k < price.reads ? price.readSleep : price.writeSleep;
      w.swap(sleep);
      w.pcSleep[pc]! += sleep;
    }
    w.locks[price.map]! += price.lockCycles;
  }

  firmwarePrice(address: number, table: number): FirmwarePrice | null {
    const key = priceKey(address, table);
    let known = this.prices.get(key);
    if (known === undefined) this.prices.set(key, (known = this.priceOf(address, table)));
    return known;
  }

  /** What a call of the routine at `address` on the map of table id `table` costs; null when the routine fails. */
  private priceOf(address: number, table: number): FirmwarePrice | null {
    const helper = this.helperAt.get(address);
    const map = this.maps.mapOfTable(table);
    if (helper === undefined || map === undefined) return null;
    const m = this.table.mapMemory;
    return { ...firmwareCost(helper, map.type, this.timing), map: map.index, memory: m, readSleep: this.table.wait(m, 'read'), writeSleep: this.table.wait(m, 'write') };
  }
}
