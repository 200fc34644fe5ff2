/**
 * Lowering of eBPF ALU and ALU64 instructions and of `lddw` of a plain constant —
 * the kernel JIT's `*_reg64`, `*_imm64`, `*_reg`, `*_imm`, `shl_imm64` ... callbacks
 * in drivers/net/ethernet/netronome/nfp/bpf/jit.c, with its costs:
 *
 * - ALU64: two card instructions, one per word; add/sub are ADD then ADD_C / SUB then
 *   SUB_C (the carry links the words); and/or/xor work word by word.
 * - ALU32: the operation on the low word, then `immed[hi, 0]` zeroes the high word
 *   (the kernel's `wrp_zext`; this slice never elides it).
 * - An immediate that does not fit the operand field (0..0xff) is loaded into the
 *   scratch register gprB_21 by `immed` first (one, or two for a constant no 16-bit
 *   window holds); `immed` leaves the condition codes alone, so it may sit between
 *   ADD and ADD_C.
 * - Shifts by a constant: `alu_shf` with a direct amount; 64-bit shifts below 32 use
 *   the double shift (`>>dbl`) for the word that takes bits from the other, as
 *   `shl_imm64`/`shr_imm64` do; an arithmetic shift first passes the word through
 *   `alu` so that its sign is the previous ALU result (`ashr_imm64`).
 *
 * Refused here (each with its reason): shifts by a register (the indirect shift
 * sequences come with a later slice), multiply, divide and modulo, sign-extending
 * moves, and every register beyond r9.
 */
import { NO_DST, imm } from '../../../nic-sim/isa/operands.js';
import type { AluOp } from '../../../nic-sim/isa/tables.js';
import type { Insn as EbpfInsn } from '../../../xdp/isa/insn.js';
import { lddwValue } from '../../../xdp/isa/insn.js';
import type { AluName, InsnKind } from '../../../xdp/isa/kind.js';
import {
  NONE_SRC, alu, loadImm32, mappedReg, refuse, shf, sourceOf, sourceWord, unsupported,
  type EmitCtx, type Refusal,
} from './emit.js';
import { dest, left, right } from './regs.js';

type AluKind = Extract<InsnKind, { k: 'alu' }>;
type AluLowering = (ctx: EmitCtx, insn: EbpfInsn, kind: AluKind) => void;

/** `immed[hi, 0]`: the high word of an ALU32 result. */
const zext = (ctx: EmitCtx, d: number): void => loadImm32(ctx, dest(d, 1), 0);

/** Two-operand operations: the card operation for the low word and for the high word. */
function binary(lo: AluOp, hi: AluOp): AluLowering {
  return (ctx, insn, kind) => {
    const d = mappedReg(ctx, insn.dst);
    const s = sourceOf(ctx, insn, kind.useReg);
    alu(ctx, dest(d, 0), left(d, 0), lo, sourceWord(ctx, s, 0, 'b'));
    if (kind.width === 64) alu(ctx, dest(d, 1), left(d, 1), hi, sourceWord(ctx, s, 1, 'b'));
    else zext(ctx, d);
  };
}

const mov: AluLowering = (ctx, insn, kind) => {
  const d = mappedReg(ctx, insn.dst);
  const s = sourceOf(ctx, insn, kind.useReg);
  const words = kind.width === 64 ? ([0, 1] as const) : ([0] as const);
  for (const w of words) {
    if (s.k === 'reg') alu(ctx, dest(d, w), NONE_SRC, 'none', right(s.reg, w));
    else loadImm32(ctx, dest(d, w), w === 0 ? s.lo : s.hi);
  }
  if (kind.width === 32) zext(ctx, d);
};

const neg: AluLowering = (ctx, insn, kind) => {
  const d = mappedReg(ctx, insn.dst);
  alu(ctx, dest(d, 0), imm(0), 'sub', right(d, 0));
  if (kind.width === 64) alu(ctx, dest(d, 1), imm(0), 'sub_c', right(d, 1));
  else zext(ctx, d);
};

type ShiftName = 'lsh' | 'rsh' | 'arsh';

/** The shift amount of a constant shift, checked against the width (the verifier's "invalid shift"). */
function shiftAmount(ctx: EmitCtx, insn: EbpfInsn, kind: AluKind): number {
  if (kind.useReg) throw unsupported(ctx, `${kind.width}-bit ${kind.op} by a register: indirect shifts are not lowered yet`);
  if (insn.imm < 0 || insn.imm >= kind.width) throw unsupported(ctx, `${kind.width}-bit ${kind.op} by ${insn.imm}: out of range`);
  return insn.imm;
}

/** Make the word the previous ALU result, so that ASHR shifts its sign in. */
const signOf = (ctx: EmitCtx, d: number, w: 0 | 1): void => alu(ctx, NO_DST, NONE_SRC, 'none', right(d, w));

function shift32(ctx: EmitCtx, name: ShiftName, d: number, n: number): void {
  if (n > 0) {
    if (name === 'lsh') shf(ctx, dest(d, 0), NONE_SRC, 'none', right(d, 0), 'shl', n);
    else if (name === 'rsh') shf(ctx, dest(d, 0), NONE_SRC, 'none', right(d, 0), 'shr', n);
    else {
      signOf(ctx, d, 0);
      shf(ctx, dest(d, 0), NONE_SRC, 'ashr', right(d, 0), 'shr', n);
    }
  }
  zext(ctx, d);
}

function shift64(ctx: EmitCtx, name: ShiftName, d: number, n: number): void {
  if (n === 0) return;
  if (name === 'lsh') {
    if (n < 32) {
      shf(ctx, dest(d, 1), left(d, 1), 'none', right(d, 0), 'dshr', 32 - n);
      shf(ctx, dest(d, 0), NONE_SRC, 'none', right(d, 0), 'shl', n);
    } else {
      if (n === 32) alu(ctx, dest(d, 1), NONE_SRC, 'none', right(d, 0));
      else shf(ctx, dest(d, 1), NONE_SRC, 'none', right(d, 0), 'shl', n - 32);
      loadImm32(ctx, dest(d, 0), 0);
    }
    return;
  }
  if (n < 32) {
    shf(ctx, dest(d, 0), left(d, 1), 'none', right(d, 0), 'dshr', n);
    if (name === 'rsh') shf(ctx, dest(d, 1), NONE_SRC, 'none', right(d, 1), 'shr', n);
    else {
      signOf(ctx, d, 1);
      shf(ctx, dest(d, 1), NONE_SRC, 'ashr', right(d, 1), 'shr', n);
    }
    return;
  }
  if (name === 'rsh') {
    if (n === 32) alu(ctx, dest(d, 0), NONE_SRC, 'none', right(d, 1));
    else shf(ctx, dest(d, 0), NONE_SRC, 'none', right(d, 1), 'shr', n - 32);
    loadImm32(ctx, dest(d, 1), 0);
    return;
  }
  // arsh by 32..63: the move makes the high word the previous ALU result; the
  // alu_shf instructions after it leave that result alone.
  alu(ctx, dest(d, 0), NONE_SRC, 'none', right(d, 1));
  if (n > 32) shf(ctx, dest(d, 0), NONE_SRC, 'ashr', right(d, 1), 'shr', n - 32);
  shf(ctx, dest(d, 1), NONE_SRC, 'ashr', right(d, 1), 'shr', 31);
}

function shift(name: ShiftName): AluLowering {
  return (ctx, insn, kind) => {
    const d = mappedReg(ctx, insn.dst);
    const n = shiftAmount(ctx, insn, kind);
    if (kind.width === 64) shift64(ctx, name, d, n);
    else shift32(ctx, name, d, n);
  };
}

/** One entry per eBPF ALU operation: the compiler checks that none is missing. */
export const ALU_LOWERINGS = {
  add: binary('add', 'add_c'),
  sub: binary('sub', 'sub_c'),
  and: binary('and', 'and'),
  or: binary('or', 'or'),
  xor: binary('xor', 'xor'),
  mov,
  neg,
  lsh: shift('lsh'),
  rsh: shift('rsh'),
  arsh: shift('arsh'),
  mul: refuse('multiply: the mul_step sequences are not lowered yet'),
  div: refuse('divide: offloadable only by a u32 constant, not lowered yet'),
  sdiv: refuse('signed divide: the NFP offload refuses it'),
  mod: refuse('modulo: not lowered yet'),
  smod: refuse('signed modulo: the NFP offload refuses it'),
  movsx: refuse('sign-extending move: not lowered yet'),
} satisfies Record<AluName, AluLowering | Refusal>;

export function lowerAlu(ctx: EmitCtx, insn: EbpfInsn, kind: AluKind): void {
  const entry: AluLowering | Refusal = ALU_LOWERINGS[kind.op];
  if ('refuse' in entry) throw unsupported(ctx, `${kind.width === 64 ? 'ALU64' : 'ALU32'} ${kind.op}: ${entry.refuse}`);
  entry(ctx, insn, kind);
}

/** `lddw dst, constant` (pseudo source 0): two 32-bit loads. Map references are refused. */
export function lowerLddw(ctx: EmitCtx, insn: EbpfInsn, kind: Extract<InsnKind, { k: 'lddw' }>): void {
  if (kind.pseudo !== 0) throw unsupported(ctx, `lddw with pseudo source ${kind.pseudo} (a map reference): maps are not lowered yet`);
  const d = mappedReg(ctx, insn.dst);
  const v = lddwValue(insn);
  loadImm32(ctx, dest(d, 0), Number(v & 0xffffffffn));
  loadImm32(ctx, dest(d, 1), Number(v >> 32n));
}
