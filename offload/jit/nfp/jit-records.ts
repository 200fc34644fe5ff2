/**
 * What the plans made before emission (skip-insns, pkt-cache, gather, high-liveness)
 * read of an instruction record, and the control-flow facts they share: where a jump
 * lands, and whether a register is a packet pointer on every path.
 */
import type { Insn as EbpfInsn } from '../../../xdp/isa/insn.js';
import type { InsnKind } from '../../../xdp/isa/kind.js';
import type { JitRegFacts } from './emit.js';

export interface PlanRecord {
  readonly index: number;
  readonly insn: EbpfInsn;
  readonly kind: InsnKind;
  readonly reads?: readonly (JitRegFacts | undefined)[];
  readonly visits?: number;
}

/** The eBPF index a jump lands on (ja, conditional jumps), or undefined. */
export function jumpTarget(r: PlanRecord): number | undefined {
  if (r.kind.k === 'jcond') return r.index + r.insn.off + 1;
  if (r.kind.k === 'ja') return r.index + (r.kind.long ? r.insn.imm : r.insn.off) + 1;
  return undefined;
}

/** Every eBPF index some jump lands on. */
export const jumpTargets = (records: readonly PlanRecord[]): Set<number> =>
  new Set(records.map(jumpTarget).filter((t): t is number => t !== undefined));

/** A packet pointer (data, data_meta and what derives from them) on every path. */
export const isPacketPointer = (f: JitRegFacts | undefined): boolean =>
  !!f && f.types.size > 0 && [...f.types].every((t) => t === 'pkt' || t === 'pkt_meta');
