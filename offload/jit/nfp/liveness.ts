/**
 * Backward liveness over the eBPF program's control flow, as register bit sets (bit
 * n = rn): the solver both analyses share — the high words of nfp/high-liveness.ts
 * and the whole registers of `regLiveness` (what ld-combine asks: is a register read
 * again before it is written?). An instruction's effect: the registers it reads
 * (`use`), those it writes whole (`def`), and those it reads only when something
 * reads its own result afterwards (`useIfLive`, high words of low-only operations).
 */
import { regsRead, regsWritten } from '../../verifier/insn-regs.js';
import { helperProto } from '../../../xdp/helpers/helper-registry.js';
import { jumpTarget, type PlanRecord } from './jit-records.js';

export interface Effect {
  readonly use: number;
  readonly def: number;
  readonly useIfLive?: number;
}

export interface Liveness {
  /** Per eBPF index: registers live on entry to the instruction. */
  readonly liveIn: ReadonlyMap<number, number>;
  /** … after it. */
  readonly liveOut: ReadonlyMap<number, number>;
}

/** Per record position: the positions control may reach next (exits: none). */
export function successors(records: readonly PlanRecord[]): number[][] {
  const pos = new Map(records.map((r, i) => [r.index, i]));
  return records.map((r, i) => {
    if (r.kind.k === 'exit') return [];
    const t = jumpTarget(r);
    const next = r.kind.k === 'ja' || !records[i + 1] ? [] : [i + 1];
    const to = t === undefined ? undefined : pos.get(t);
    return to === undefined ? next : [...next, to];
  });
}

export function solveLiveness(records: readonly PlanRecord[], eff: readonly Effect[]): Liveness {
  const succ = successors(records);
  const liveIn = new Int32Array(records.length);
  const liveOut = new Int32Array(records.length);
  for (let changed = true; changed;) {
    changed = false;
    for (let i = records.length - 1; i >= 0; i--) {
      let out = 0;
      for (const s of succ[i]!) out |= liveIn[s]!;
      const e = eff[i]!;
      const live = (out & e.def) !== 0;
      const inn = e.use | (live ? e.useIfLive ?? 0 : 0) | (out & ~e.def);
      if (out !== liveOut[i] || inn !== liveIn[i]) {
        liveOut[i] = out;
        liveIn[i] = inn;
        changed = true;
      }
    }
  }
  return {
    liveIn: new Map(records.map((r, i) => [r.index, liveIn[i]!])),
    liveOut: new Map(records.map((r, i) => [r.index, liveOut[i]!])),
  };
}

export const regBits = (regs: readonly number[]): number => regs.reduce((m, r) => (r <= 9 ? m | (1 << r) : m), 0);

/**
 * The registers an instruction reads, a helper call only the arguments its prototype has (the
 * kernel's bpf_func_proto; the verifier's records keep facts of all of r1–r5 at a call).
 */
export function argsRead(r: PlanRecord): number[] {
  const regs = regsRead(r.insn, r.kind);
  if (r.kind.k !== 'call' || r.kind.target !== 'helper') return regs;
  const args = helperProto(r.insn.imm)?.args.length;
  return args === undefined ? regs : regs.filter((reg) => reg <= args);
}

/** Whole-register liveness of r0–r9 (a helper call reads its arguments, a local call r1–r5; calls write r0–r5; exits read r0). */
export const regLiveness = (records: readonly PlanRecord[]): Liveness =>
  solveLiveness(records, records.map((r) => ({ use: regBits(argsRead(r)), def: regBits(regsWritten(r.insn, r.kind)) })));
