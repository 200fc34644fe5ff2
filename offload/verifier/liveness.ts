/**
 * Which registers a function may still read before writing them, at every
 * instruction: a backward data-flow pass over the control flow graph (the
 * kernel computes the same statically since 6.15, compute_live_registers).
 * State pruning ignores registers that are dead where the states are
 * compared, so paths that differ only in dead values meet.
 */
import { helperProto } from '../../xdp/helpers/helper-registry.js';
import { jumpOffset } from '../../xdp/isa/kind.js';
import type { SlotProgram } from './cfg.js';

const bit = (r: number) => 1 << r;
const R1_R5 = 0b111110;

/** How many arguments a kfunc call (by its imm) passes; five when not known. */
export type KfuncArity = (imm: number) => number;

/** Registers instruction `s` reads and writes, as bit masks. */
export function useDef(p: SlotProgram, s: number, kfuncArity?: KfuncArity): [number, number] {
  const insn = p.insnAt[s]!;
  const k = p.kindAt[s]!;
  const d = bit(insn.dst);
  const src = bit(insn.src);
  switch (k.k) {
    case 'alu':
      if (k.op === 'mov' || k.op === 'movsx') return [k.useReg ? src : 0, d];
      return [d | (k.useReg ? src : 0), d];
    case 'end': return [d, d];
    case 'jcond': return [d | (k.useReg ? src : 0), 0];
    case 'lddw': return [0, d];
    case 'ldx': return [src, d];
    case 'st': return [d, 0];
    case 'stx': return [d | src, 0];
    case 'atomic':
      if (k.op === 'cmpxchg') return [d | src | 1, 1];
      return [d | src, k.fetch ? src : 0];
    case 'call': {
      if (k.target === 'helper') {
        const n = helperProto(insn.imm)?.args.length ?? 5;
        return [(1 << (n + 1)) - 2, 1 | R1_R5];
      }
      if (k.target === 'kfunc' && kfuncArity) return [(1 << (kfuncArity(insn.imm) + 1)) - 2, 1 | R1_R5];
      return [R1_R5, 1 | R1_R5];
    }
    case 'exit': return [1, 0];
    default: return [0, 0];
  }
}

/** liveIn[s]: bit r set when r may be read before written from slot s on (within its function). */
export function liveRegisters(p: SlotProgram, kfuncArity?: KfuncArity): Int32Array {
  const live = new Int32Array(p.length);
  const use = new Int32Array(p.length);
  const def = new Int32Array(p.length);
  for (let s = 0; s < p.length; s++) {
    if (!p.insnAt[s]) continue;
    [use[s], def[s]] = useDef(p, s, kfuncArity);
  }
  let changed = true;
  while (changed) {
    changed = false;
    for (let s = p.length - 1; s >= 0; s--) {
      const insn = p.insnAt[s];
      const k = p.kindAt[s];
      if (!insn || !k) continue;
      let out = 0;
      const next = s + (insn.next ? 2 : 1);
      if (k.k === 'ja') out = live[s + (jumpOffset(insn, k) ?? 0) + 1] ?? 0;
      else if (k.k === 'jcond' || k.k === 'maygoto') out = (live[s + insn.off + 1] ?? 0) | (live[next] ?? 0);
      else if (k.k !== 'exit') out = live[next] ?? 0;
      // r10 is always there; a call leaves r6-r9 of the caller as they were.
      const value = (use[s]! | (out & ~def[s]!)) | bit(10);
      if (value !== live[s]) {
        live[s] = value;
        changed = true;
      }
    }
  }
  return live;
}
