/**
 * The lowering table: one entry per eBPF instruction kind (`InsnKind['k']`), as the
 * kernel JIT's opcode-indexed `instr_cb[]`. An entry is a lowering function typed
 * for exactly its kind, or a refusal with the reason; the mapped type makes a
 * missing kind a compile error.
 */
import type { Insn as EbpfInsn } from '../../../xdp/isa/insn.js';
import type { InsnKind } from '../../../xdp/isa/kind.js';
import { refuse, unsupported, type EmitCtx, type Refusal } from './emit.js';
import { lowerAlu, lowerLddw } from './lower-alu.js';
import { lowerExit, lowerJa, lowerJcond } from './lower-jump.js';
import { lowerCall } from './lower-call.js';
import { lowerEnd } from './lower-end.js';
import { lowerAtomic, lowerLdx, lowerSt, lowerStx } from './lower-mem.js';

export type KindName = InsnKind['k'];
export type Lowering<K extends KindName> = (ctx: EmitCtx, insn: EbpfInsn, kind: Extract<InsnKind, { k: K }>) => void;
export type LoweringTable = { readonly [K in KindName]: Lowering<K> | Refusal };

export const LOWERINGS = {
  alu: lowerAlu,
  lddw: lowerLddw,
  jcond: lowerJcond,
  ja: lowerJa,
  exit: lowerExit,
  end: lowerEnd,
  maygoto: refuse('may_goto: loops are not offloaded'),
  call: lowerCall,
  ldpkt: refuse('legacy packet loads (BPF_ABS/BPF_IND) are not offloaded'),
  ldx: lowerLdx,
  st: lowerSt,
  stx: lowerStx,
  atomic: lowerAtomic,
  invalid: (ctx, _insn, kind) => {
    throw unsupported(ctx, `invalid instruction: ${kind.reason}`);
  },
} satisfies LoweringTable;

/** Lower one instruction through the table (`ctx.index` names it in any refusal). */
export function lowerInsn(ctx: EmitCtx, insn: EbpfInsn, kind: InsnKind): void {
  const entry = LOWERINGS[kind.k] as Lowering<KindName> | Refusal;
  if ('refuse' in entry) throw unsupported(ctx, `${kind.k}: ${entry.refuse}`);
  entry(ctx, insn, kind as never);
}
