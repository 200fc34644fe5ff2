/**
 * The const-src pass, over the verified program before anything is planned or emitted,
 * and what the card code of a planned record reads (which dead-def, nfp/dead-def.ts,
 * and the validator's lockstep go by):
 *
 * - const-src: a register operand the verifier proves one constant on every path that
 *   reaches the instruction becomes the immediate (the instruction's K form, as clang
 *   would have written it had it known): ALU operations, compares, stores of a
 *   register (an `st`), and the value of an atomic add (loaded into the transfer
 *   registers with `immed`, nfp/lower-mem.ts). Only where the K form means the same:
 *   a 64-bit operand must be its own 32-bit sign extension, a shift amount below the
 *   width, a divisor other than 0.
 *   A map argument of a firmware call set by an `lddw` just before is loaded by the call
 *   itself (`knownTables`).
 */
import { makeInsn, type Insn } from '../../../xdp/isa/insn.js';
import { kindOf } from '../../../xdp/isa/kind.js';
import { Class, LddwSrc, Mode, Src } from '../../../xdp/isa/opcodes.js';
import { HelperId } from '../../../xdp/helpers/helper-ids.js';
import { regsWritten } from '../../verifier/insn-regs.js';
import { jumpTargets, type PlanRecord } from './jit-records.js';
import { argsRead } from './liveness.js';

/** The 32-bit immediate whose meaning as a `width`-bit operand is `c`, if there is one. */
function immediateOf(c: bigint, width: 32 | 64): number | undefined {
  if (width === 32) return Number(BigInt.asIntN(32, c));
  const v = BigInt.asIntN(64, c);
  return v >= -(1n << 31n) && v < 1n << 31n ? Number(v) : undefined;
}

/** The constant the verifier proves `reg` to be at `r`, if it does. */
function constantOf(r: PlanRecord, reg: number): bigint | undefined {
  const f = r.reads?.[reg];
  return f && f.types.size === 1 && f.types.has('scalar') ? f.constant : undefined;
}

/** The record in its K form, when its register source is a constant and that form means the same. */
export function constSource(r: PlanRecord): PlanRecord | undefined {
  const k = r.kind;
  const { code, dst, src, off } = r.insn;
  if (src > 9) return undefined;
  const c = constantOf(r, src);
  if (c === undefined) return undefined;
  let insn: Insn | undefined;
  if (k.k === 'alu' && k.useReg && k.op !== 'movsx' && k.op !== 'neg') {
    const imm = immediateOf(c, k.width);
    if (imm === undefined) return undefined;
    if ((k.op === 'lsh' || k.op === 'rsh' || k.op === 'arsh') && (imm < 0 || imm >= k.width)) return undefined;
    if ((k.op === 'div' || k.op === 'mod') && imm === 0) return undefined;
    // The same operation with the K bit clear; the offset (signed division) stays.
    insn = makeInsn(code & ~Src.X, dst, 0, off, imm);
  } else if (k.k === 'jcond' && k.useReg) {
    const imm = immediateOf(c, k.width);
    if (imm !== undefined) insn = makeInsn(code & ~Src.X, dst, 0, off, imm);
  } else if (k.k === 'stx') {
    const imm = k.size === 8 ? immediateOf(c, 64) : Number(BigInt.asIntN(32, c));
    if (imm !== undefined) insn = makeInsn(Class.ST | Mode.MEM | (code & 0x18), dst, 0, off, imm);
  }
  if (!insn) return undefined;
  return { ...r, insn, kind: kindOf(insn) };
}

/** Is the record an atomic add whose value the lowering takes as a constant (const-src)? */
export const atomicConstant = (r: PlanRecord): bigint | undefined =>
  r.kind.k === 'atomic' && r.kind.op === 'add' && !r.kind.fetch ? constantOf(r, r.insn.src) : undefined;

/** The register holding the map argument (the table) of the helpers the card calls in firmware. */
export const TABLE_ARG: Readonly<Record<number, number>> = {
  [HelperId.MAP_LOOKUP_ELEM]: 1, [HelperId.MAP_UPDATE_ELEM]: 1, [HelperId.MAP_DELETE_ELEM]: 1, [HelperId.PERF_EVENT_OUTPUT]: 2,
};

/**
 * const-src for map arguments: a firmware helper call whose table register was set by an `lddw` of a
 * map in the same straight-line code (no jump target between, the register not written since) — by
 * eBPF index of the call: that map's index (the lddw's immediate), which the call's lowering loads
 * straight into the firmware's table register as the `map-id` relocation.
 */
export function knownTables(records: readonly PlanRecord[]): Map<number, number> {
  const out = new Map<number, number>();
  const targets = jumpTargets(records);
  const maps = new Map<number, number>();
  records.forEach((r, i) => {
    // Paths join at a jump target; nothing falls into the code after an exit or a jump (a function may start there).
    const prev = records[i - 1]?.kind.k;
    if (targets.has(r.index) || prev === 'exit' || prev === 'ja') maps.clear();
    const k = r.kind;
    if (k.k === 'call' && k.target === 'helper') {
      const reg = TABLE_ARG[r.insn.imm];
      const map = reg === undefined ? undefined : maps.get(reg);
      if (map !== undefined) out.set(r.index, map);
    }
    for (const reg of regsWritten(r.insn, k)) maps.delete(reg);
    if (k.k === 'lddw' && (k.pseudo === LddwSrc.MAP_FD || k.pseudo === LddwSrc.MAP_IDX)) maps.set(r.insn.dst, r.insn.imm);
  });
  return out;
}

export interface ReadOptions {
  /** const-src is on: an atomic add's constant value is not read from its register. */
  readonly constSrc: boolean;
  /** Every exit of the main program sets its action code itself (const-exit): r0 is not read there. */
  readonly constExit: boolean;
  /** Index of the first subprogram (its exits return r0 to the caller). */
  readonly mainEnd: number;
  /** Firmware calls whose map the lowering loads itself (`knownTables`): their table register is not read. */
  readonly tables: ReadonlyMap<number, number>;
}

/** The registers the card code of a (planned) record reads. */
export function loweredReads(r: PlanRecord, o: ReadOptions): number[] {
  if (r.kind.k === 'exit' && o.constExit && r.index < o.mainEnd) return [];
  const regs = argsRead(r);
  if (o.constSrc && atomicConstant(r) !== undefined) return regs.filter((reg) => reg !== r.insn.src);
  if (o.tables.has(r.index)) return regs.filter((reg) => reg !== TABLE_ARG[r.insn.imm]);
  return regs;
}
