/**
 * What one run counts: instructions by class, memory commands by region and action
 * (each one a swap-out on the card when it has `ctx_swap`), branches taken and
 * firmware routines called. The timing model prices these; the executor only counts.
 */
import type { Insn } from '../isa/instructions.js';
import { CMD_ACTIONS, CMD_TARGETS, type CmdAction, type MemTarget } from '../isa/tables.js';

export type InsnClass = Insn['cls'];

export interface RunCounters {
  /** Instructions executed (firmware routines not included). */
  steps: number;
  readonly byClass: Record<InsnClass, number>;
  readonly commands: Record<MemTarget, Record<CmdAction, number>>;
  /** Commands issued with `ctx_swap` (the thread would sleep until the signal). */
  ctxSwaps: number;
  /** Branches (any class) that took effect, `rtn` included. */
  branchesTaken: number;
  firmwareCalls: number;
}

const CLASSES: readonly InsnClass[] = ['alu', 'alu_shf', 'ld_field', 'immed', 'br', 'br_byte', 'br_bit', 'br_alu', 'cmd', 'local_csr', 'mul'];

const zeros = <K extends string>(keys: readonly K[]): Record<K, number> =>
  Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;

export function createCounters(): RunCounters {
  return {
    steps: 0,
    byClass: zeros(CLASSES),
    commands: Object.fromEntries(CMD_TARGETS.names.map((t) => [t, zeros(CMD_ACTIONS.names)])) as Record<MemTarget, Record<CmdAction, number>>,
    ctxSwaps: 0,
    branchesTaken: 0,
    firmwareCalls: 0,
  };
}

/** Every count back to zero, in place (a card reuses one set of counters for every packet). */
export function resetCounters(c: RunCounters): void {
  c.steps = 0;
  const b = c.byClass;
  b.alu = b.alu_shf = b.ld_field = b.immed = b.br = b.br_byte = b.br_bit = b.br_alu = b.cmd = b.local_csr = b.mul = 0;
  for (const t of CMD_TARGETS.names) {
    const row = c.commands[t];
    row.read32 = row.write32 = row.read8 = row.write8 = row.add32 = row.add64 = 0;
  }
  c.ctxSwaps = 0;
  c.branchesTaken = 0;
  c.firmwareCalls = 0;
}
