/**
 * Lowering of eBPF jumps (the kernel JIT's `cmp_imm`/`cmp_reg` with its
 * `jmp_code_map`, `jeq_imm`, `jset_imm`, `jump`, `goto_out` in
 * drivers/net/ethernet/netronome/nfp/bpf/jit.c):
 *
 * - Ordered compares subtract and branch on the codes: 64-bit SUB (low words) then
 *   SUB_C (high words), 32-bit a single SUB; unsigned BLO/BHS, signed BLT/BGE. JGT,
 *   JLE, JSGT and JSLE swap the operands (jmp_code_map's `swap`): then the source is
 *   read from bank A and the destination register from bank B.
 * - JEQ/JNE and JSET: 32-bit one SUB (or AND) then BEQ/BNE; 64-bit XOR (or AND) each
 *   word into the scratch GPR 20 (bank B for the low word, bank A for the high
 *   word), OR the two, and branch on Z; against a constant whose high word is 0,
 *   the low word's XOR ORed with the high word (against 0, the two words ORed), and
 *   a bit test of the low word alone.
 * - JA: one `br`. EXIT: one `br` to the shared outro.
 *
 * Branch targets are eBPF instruction indexes here; the translator turns them into
 * card addresses once the whole program is emitted.
 */
import { NO_DST, gprA, gprB } from '../../../nic-sim/isa/operands.js';
import type { AluOp, BrCond } from '../../../nic-sim/isa/tables.js';
import type { Insn as EbpfInsn } from '../../../xdp/isa/insn.js';
import type { InsnKind, JmpName } from '../../../xdp/isa/kind.js';
import { alu, branch, loadImm32, mappedReg, sourceOf, sourceWord, type EmitCtx, type Source } from './emit.js';
import { ACTION_GPR, TMP_GPR, left, right } from './regs.js';
import { nfpActionOf } from '../../../nic-sim/card/actions.js';
import { enabled, narrowCompare } from './passes.js';
import { jumpTarget } from './jit-records.js';

type JcondKind = Extract<InsnKind, { k: 'jcond' }>;

/** How one eBPF condition is tested on the card. */
export type JumpLowering =
  /** dst − src (or src − dst when swapped) over the width, then branch on `cond`. */
  | { readonly k: 'ordered'; readonly cond: BrCond; readonly swap: boolean }
  /** Combine the words with `op` (XOR: equality, AND: bit test), branch on `cond` of the result's Z. */
  | { readonly k: 'bitwise'; readonly op: AluOp; readonly cond: 'eq' | 'ne' };

/** jmp_code_map, one entry per eBPF condition: the compiler checks that none is missing. */
export const JUMP_LOWERINGS = {
  jeq: { k: 'bitwise', op: 'xor', cond: 'eq' },
  jne: { k: 'bitwise', op: 'xor', cond: 'ne' },
  jset: { k: 'bitwise', op: 'and', cond: 'ne' },
  jgt: { k: 'ordered', cond: 'lo', swap: true },
  jge: { k: 'ordered', cond: 'hs', swap: false },
  jlt: { k: 'ordered', cond: 'lo', swap: false },
  jle: { k: 'ordered', cond: 'hs', swap: true },
  jsgt: { k: 'ordered', cond: 'lt', swap: true },
  jsge: { k: 'ordered', cond: 'ge', swap: false },
  jslt: { k: 'ordered', cond: 'lt', swap: false },
  jsle: { k: 'ordered', cond: 'ge', swap: true },
} as const satisfies Record<JmpName, JumpLowering>;

function ordered(ctx: EmitCtx, d: number, s: Source, width: 32 | 64, swap: boolean): void {
  const words = width === 64 ? ([0, 1] as const) : ([0] as const);
  for (const w of words) {
    const op: AluOp = w === 0 ? 'sub' : 'sub_c';
    if (swap) alu(ctx, NO_DST, sourceWord(ctx, s, w, 'a'), op, right(d, w));
    else alu(ctx, NO_DST, left(d, w), op, sourceWord(ctx, s, w, 'b'));
  }
}

function bitwise(ctx: EmitCtx, d: number, s: Source, width: 32 | 64, op: AluOp): void {
  if (width === 32) {
    // Equality as a subtraction (Z either way); a bit test as AND.
    alu(ctx, NO_DST, left(d, 0), op === 'xor' ? 'sub' : op, sourceWord(ctx, s, 0, 'b'));
    return;
  }
  if (s.k === 'imm' && s.hi === 0) {
    // A constant whose high word is 0: AND leaves d's high word out; XOR with 0 is d's word itself.
    if (op === 'and') return void alu(ctx, NO_DST, left(d, 0), 'and', sourceWord(ctx, s, 0, 'b'));
    if (s.lo === 0) return void alu(ctx, NO_DST, left(d, 0), 'or', right(d, 1));
    alu(ctx, gprB(TMP_GPR), left(d, 0), 'xor', sourceWord(ctx, s, 0, 'b'));
    return void alu(ctx, NO_DST, left(d, 1), 'or', gprB(TMP_GPR));
  }
  alu(ctx, { k: 'gpr', bank: 'b', n: TMP_GPR }, left(d, 0), op, sourceWord(ctx, s, 0, 'b'));
  alu(ctx, { k: 'gpr', bank: 'a', n: TMP_GPR }, left(d, 1), op, sourceWord(ctx, s, 1, 'b'));
  alu(ctx, NO_DST, gprA(TMP_GPR), 'or', gprB(TMP_GPR));
}

/** narrow32: a 64-bit compare of values whose high words are 0 compares the low words alone. */
function compareWidth(ctx: EmitCtx, insn: EbpfInsn, kind: JcondKind, d: number): 32 | 64 {
  if (kind.width === 32 || !enabled(ctx, 'narrow32')) return kind.width;
  return narrowCompare(ctx.reads, kind.op, d, kind.useReg ? { reg: insn.src } : { imm: insn.imm }) ? 32 : 64;
}

export function lowerJcond(ctx: EmitCtx, insn: EbpfInsn, kind: JcondKind): void {
  const d = mappedReg(ctx, insn.dst);
  const s = sourceOf(ctx, insn, kind.useReg);
  const how: JumpLowering = JUMP_LOWERINGS[kind.op];
  const width = compareWidth(ctx, insn, kind, d);
  if (how.k === 'ordered') ordered(ctx, d, s, width, how.swap);
  else bitwise(ctx, d, s, width, how.op);
  branch(ctx, how.cond, { k: 'insn', index: jumpTarget({ index: ctx.index, insn, kind })! });
}

export function lowerJa(ctx: EmitCtx, insn: EbpfInsn, kind: Extract<InsnKind, { k: 'ja' }>): void {
  branch(ctx, 'always', { k: 'insn', index: jumpTarget({ index: ctx.index, insn, kind })! });
}

/**
 * `exit`: to the shared outro, which maps r0 to the action (the kernel's `goto_out`); with the
 * const-exit pass, where the verifier proves r0 one constant at every exit of the program, the
 * action code itself and a branch to the end (the outro is then left out).
 */
export function lowerExit(ctx: EmitCtx): void {
  const r0 = ctx.reads?.[0]?.constant;
  if (ctx.opts.constExit && r0 !== undefined) {
    loadImm32(ctx, ACTION_GPR, nfpActionOf(r0));
    branch(ctx, 'always', { k: 'label', name: 'end' });
    return;
  }
  branch(ctx, 'always', { k: 'label', name: 'outro' });
}
