/**
 * The card profile's timing model (caps/profile.ts TimingModel) as the prices the
 * simulator charges: cycles to issue each card instruction, the penalty of a taken
 * branch (less what its defer slots fill), how long a memory command keeps its thread
 * asleep, and which of the profile's memories each command target is. The figures
 * and their sources: docs/calibration.md.
 *
 * Command targets are the card ISA's (ctm, cls, imem, emem). A profile that names a
 * memory after the target prices it there; one that does not (a card with other
 * memory names) has CTM taken as its packet memory and the others as its map memory.
 */
import type { MemoryLevel, TimingModel } from '../../caps/profile.js';
import type { Insn } from '../isa/instructions.js';
import { CMD_TARGETS, type CmdAction, type MemTarget } from '../isa/tables.js';

/** What a command does to its memory, for pricing: reads, writes, atomics (add to memory). */
export type MemoryOp = 'read' | 'write' | 'atomic';

export const COMMAND_OP: Readonly<Record<CmdAction, MemoryOp>> = {
  read32: 'read', read8: 'read', write32: 'write', write8: 'write', add32: 'atomic', add64: 'atomic',
};

export interface CycleTable {
  readonly clockHz: number;
  readonly memories: readonly MemoryLevel[];
  /** Index into `memories` of each command target. */
  readonly targetMemory: Readonly<Record<MemTarget, number>>;
  readonly packetMemory: number;
  readonly mapMemory: number;
  /** Cycles a thread sleeps on one command of `op` to memory `m`. */
  wait(m: number, op: MemoryOp): number;
  /** Cycles to issue one instruction (its class's cost). */
  issue(insn: Insn): number;
  /** Extra cycles of a branch that took effect with `defer` slots filled. */
  takenPenalty(defer: number): number;
}

export function cycleTable(t: TimingModel): CycleTable {
  const index = (name: string): number => {
    const i = t.memories.findIndex((m) => m.name === name);
    if (i < 0) throw new RangeError(`timing model: memory '${name}' is not one of ${t.memories.map((m) => m.name).join(', ')}`);
    return i;
  };
  const packetMemory = index(t.packetMemory);
  const mapMemory = index(t.mapMemory);
  const byName = (target: MemTarget, fallback: number): number => {
    const i = t.memories.findIndex((m) => m.name === target);
    return i >= 0 ? i : fallback;
  };
  const targetMemory = Object.fromEntries(CMD_TARGETS.names.map((n) => [n, byName(n, n === 'ctm' ? packetMemory : mapMemory)])) as Record<MemTarget, number>;
  const waits = t.memories.map((m) => ({ read: m.latencyCycles, write: m.writeCycles, atomic: m.atomicCycles }));
  const c = t.costs;
  const byClass: Readonly<Record<Insn['cls'], number>> = {
    alu: c.alu, alu_shf: c.alu, ld_field: c.alu, immed: c.alu, local_csr: c.alu, cmd: c.alu,
    mul: c.mul, br: c.alu, br_byte: c.alu, br_bit: c.alu, br_alu: c.alu,
  };
  return {
    clockHz: t.clockKHz * 1000,
    memories: t.memories,
    targetMemory, packetMemory, mapMemory,
    wait: (m, op) => waits[m]![op],
    issue: (insn) => byClass[insn.cls],
    takenPenalty: (defer) => Math.max(0, c.branch - defer),
  };
}
