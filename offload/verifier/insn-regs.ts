/**
 * The registers one eBPF instruction reads and writes, by its kind — what the
 * instruction records' facts are gathered for (the registers read) and what the
 * JIT's liveness and the validator's "who last wrote r" ask.
 */
import type { Insn } from '../../xdp/isa/insn.js';
import type { InsnKind } from '../../xdp/isa/kind.js';

/** The registers an instruction reads (r10 included where it is the base). */
export function regsRead(insn: Insn, kind: InsnKind): number[] {
  switch (kind.k) {
    case 'alu':
      if (kind.op === 'mov' || kind.op === 'movsx') return kind.useReg ? [insn.src] : [];
      return kind.op === 'neg' || !kind.useReg ? [insn.dst] : [insn.dst, insn.src];
    case 'end': return [insn.dst];
    case 'jcond': return kind.useReg ? [insn.dst, insn.src] : [insn.dst];
    case 'call': return kind.target === 'local' ? [1, 2, 3, 4, 5] : kind.target === 'reg' ? [insn.dst] : [1, 2, 3, 4, 5];
    case 'exit': return [0];
    case 'ldx': return [insn.src];
    case 'st': return [insn.dst];
    case 'stx': return [insn.dst, insn.src];
    case 'atomic': return kind.op === 'cmpxchg' ? [insn.dst, insn.src, 0] : [insn.dst, insn.src];
    case 'ldpkt': return kind.indirect ? [6, insn.src] : [6];
    default: return [];
  }
}

/** The registers an instruction writes (a call: r0 and the clobbered r1–r5). */
export function regsWritten(insn: Insn, kind: InsnKind): number[] {
  switch (kind.k) {
    case 'alu': case 'ldx': case 'lddw': case 'end': return [insn.dst];
    case 'call': return [0, 1, 2, 3, 4, 5];
    case 'atomic': return kind.fetch ? [kind.op === 'cmpxchg' ? 0 : insn.src] : [];
    case 'ldpkt': return [0];
    default: return [];
  }
}
