/**
 * The dead-def pass: an instruction without side effects (ALU, byte swap, load, `lddw`)
 * whose register nobody reads before it is written again emits nothing — whole-register
 * liveness (nfp/liveness.ts) over the registers the lowerings actually read
 * (nfp/const-src.ts `loweredReads`: not what const-src made immediates, not r0 at an exit
 * that sets its action code itself). A dead jump target becomes a jump to the next
 * instruction, so control flow is as it was. Repeated until nothing more dies.
 */
import { makeInsn, slotCount } from '../../../xdp/isa/insn.js';
import { kindOf } from '../../../xdp/isa/kind.js';
import { Class, JmpOp } from '../../../xdp/isa/opcodes.js';
import { regsWritten } from '../../verifier/insn-regs.js';
import { loweredReads, type ReadOptions } from './const-src.js';
import { jumpTargets, type PlanRecord } from './jit-records.js';
import { regBits, solveLiveness } from './liveness.js';

const SIDE_EFFECT_FREE: ReadonlySet<string> = new Set(['alu', 'end', 'ldx', 'lddw']);

/** A jump to the next instruction: what a dead definition that is a jump target becomes (compact removes its branch). */
const jumpToNext = (r: PlanRecord): PlanRecord => {
  // Over both slots of an lddw.
  const insn = makeInsn(Class.JMP | JmpOp.JA, 0, 0, slotCount(r.insn) - 1, 0);
  return { ...r, insn, kind: kindOf(insn) };
};

/**
 * dead-def: the records without the instructions whose register is not read before it is written
 * again (`away`); one that is a jump target stays as a jump to the next instruction, so that the
 * program's control flow is what it was.
 */
export function deadDefs(records: readonly PlanRecord[], o: ReadOptions): { planned: PlanRecord[]; away: Set<number> } {
  const away = new Set<number>();
  const targets = jumpTargets(records);
  let planned = [...records];
  for (;;) {
    const { liveOut } = solveLiveness(planned, planned.map((r) => ({ use: regBits(loweredReads(r, o)), def: regBits(regsWritten(r.insn, r.kind)) })));
    const dead = planned.filter((r) => SIDE_EFFECT_FREE.has(r.kind.k) && r.visits !== 0 && r.reads !== undefined && r.insn.dst <= 9
      && ((liveOut.get(r.index) ?? ~0) & (1 << r.insn.dst)) === 0);
    if (dead.length === 0) return { planned, away };
    const gone = new Set(dead.map((r) => r.index));
    planned = planned.filter((r) => !gone.has(r.index) || targets.has(r.index)).map((r) => (gone.has(r.index) ? jumpToNext(r) : r));
    for (const i of gone) if (!targets.has(i)) away.add(i);
  }
}
