/**
 * Lowering of eBPF ALU and ALU64 instructions and of `lddw` of a plain constant —
 * the kernel JIT's `*_reg64`, `*_imm64`, `*_reg`, `*_imm`, `shl_imm64` ... callbacks
 * in drivers/net/ethernet/netronome/nfp/bpf/jit.c, with its costs:
 *
 * - ALU64: two card instructions, one per word; add/sub are ADD then ADD_C / SUB then
 *   SUB_C (the carry links the words); and/or/xor work word by word. The high-word
 *   instruction goes where narrow32 or zext say it is not needed (nfp/passes.ts).
 * - ALU32: the operation on the low word, then `immed[hi, 0]` zeroes the high word
 *   (the kernel's `wrp_zext`), unless the zext pass elides it.
 * - An immediate that does not fit the operand field (0..0xff) is loaded into the
 *   scratch register gprB_21 by `immed` first (one, or two for a constant no 16-bit
 *   window holds); `immed` leaves the condition codes alone, so it may sit between
 *   ADD and ADD_C.
 * - Shifts by a constant: `alu_shf` with a direct amount; 64-bit shifts below 32 use
 *   the double shift (`>>dbl`) for the word that takes bits from the other, as
 *   `shl_imm64`/`shr_imm64` do; an arithmetic shift first passes the word through
 *   `alu` so that its sign is the previous ALU result (`ashr_imm64`).
 * - Shifts by a register (`shl_reg64`, `shr_reg*`, `ashr_reg*`): the amount reaches the
 *   shifter as the previous ALU instruction's A operand (`alu[--, amount, OR, 0]`,
 *   then `alu_shf[..., >>indirect]`); the card takes it & 31, which is eBPF's 32-bit
 *   mask. ASHR needs the sign as the previous ALU result too: one `alu[--, gprA_20,
 *   OR, word]` with gprA_20 = amount & 31 gives both. 64-bit (amount & 63): bit 5 of
 *   the amount branches, at run time, between a block for 0..31 (a double shift for
 *   the word that takes bits from the other; a left shift by n is `>>dbl` by 32 − n)
 *   and one for 32..63 (one word shifted into the other, the other 0 or the sign).
 *   32-bit: 3 instructions (4 for arsh); 64-bit: 8 to 10 emitted, at most 7 run.
 * - Multiply with `mul_step` (32x32: start, 4 steps, last, [last2]): 32-bit is one
 *   sequence; 64-bit keeps the low 64 bits of the full product from three 32×32
 *   products (`mul` below): no range facts are needed (the records carry none).
 *
 * `mov64 dst, r10` loads the function's r10 as an LM address (512 in the main
 * program): stack pointers are LM addresses on the card.
 *
 * Divide and modulo by a constant: nfp/lower-div.ts.
 *
 * Refused here (each with its reason): signed divide and modulo, sign-extending moves,
 * constant shifts by the width or more, and every other use of r10.
 */
import type { ImmedInsn } from '../../../nic-sim/isa/instructions.js';
import { NO_DST, gprA, gprB, imm, type GprDst } from '../../../nic-sim/isa/operands.js';
import type { AluOp } from '../../../nic-sim/isa/tables.js';
import type { Insn as EbpfInsn } from '../../../xdp/isa/insn.js';
import { lddwValue } from '../../../xdp/isa/insn.js';
import { LddwSrc } from '../../../xdp/isa/opcodes.js';
import type { AluName, InsnKind } from '../../../xdp/isa/kind.js';
import {
  NONE_SRC, alu, emit, forwardBranch, loadImm32, mappedReg, refuse, relocNext, shf, sourceOf, sourceWord, unsupported,
  zeroHigh, type CardRelocKind, type EmitCtx, type Refusal,
} from './emit.js';
import { enabled, isPointer, maxOf, narrowAlu, negAddSub } from './passes.js';
import { FP } from './lower-stack.js';
import { mul32x32 } from './mul-seq.js';
import { lowerDivMod } from './lower-div.js';
import { IMM_GPR, TMP_GPR, dest, left, right, type Word } from './regs.js';

type AluKind = Extract<InsnKind, { k: 'alu' }>;
type AluLowering = (ctx: EmitCtx, insn: EbpfInsn, kind: AluKind) => void;

/** Nothing reads eBPF register d's high word after this instruction (and the zext pass is on): compute the low word alone. */
const hiDead = (ctx: EmitCtx, d: number): boolean => enabled(ctx, 'zext') && (ctx.hiLive & (1 << d)) === 0;

/**
 * `immed[hi, 0]` after a 32-bit operation, left out (zext) only where nothing reads the high word
 * before it is written whole. Not where the verifier proves it zero already: the register's high word
 * may never have been written (a producer whose high word was dead then), and a 32-bit operation does
 * not read it, so nothing made it live before.
 */
function zext(ctx: EmitCtx, d: number): void {
  zeroHigh(ctx, d);
}

/** Trailing one bits of a non-negative mask: `&= mask` keeps every value below 2^k. */
function lowOnes(mask: number): number {
  let k = 0;
  while (k < 31 && (mask >>> k) & 1) k++;
  return k;
}

/** Two-operand operations: the card operation for the low word and for the high word. */
function binary(lo: AluOp, hi: AluOp): AluLowering {
  return (ctx, insn, kind) => {
    const d = mappedReg(ctx, insn.dst);
    let s = sourceOf(ctx, insn, kind.useReg);
    let [opLo, opHi] = [lo, hi];
    // neg-add-sub: x + (−c) is x − c, and c fits the operand field where −c would not.
    const flipped = !kind.useReg && enabled(ctx, 'neg-add-sub') ? negAddSub(kind.op, insn.imm) : undefined;
    if (flipped) {
      [opLo, opHi] = flipped.op === 'sub' ? ['sub', 'sub_c'] : ['add', 'add_c'];
      s = { k: 'imm', lo: flipped.imm, hi: 0 };
    }
    // fuse-mov: the move into d was left out; this instruction reads the move's source instead.
    const from = ctx.fuseLeft ?? d;
    if (from === FP) {
      // r10 ± c: a stack address, a constant of the function's frame (fusedMoves fuses only add/sub of a constant).
      loadImm32(ctx, dest(d, 0), ctx.frameTop + (kind.op === 'sub' ? -insn.imm : insn.imm));
      if (!hiDead(ctx, d)) loadImm32(ctx, dest(d, 1), 0);
      return;
    }
    // ld-mask: a mask that keeps every bit the value can have.
    if (ctx.fuseLeft === undefined && enabled(ctx, 'ld-mask') && kind.op === 'and' && s.k === 'imm' && insn.imm >= 0) {
      const m = maxOf(ctx.reads, d);
      if (m !== undefined && !isPointer(ctx.reads, d) && m < 1n << BigInt(lowOnes(insn.imm))) {
        if (kind.width === 32) zext(ctx, d);
        return;
      }
    }
    // XOR with all ones is NOT (`~B`): no immed of the constant.
    const word = (w: Word): void => {
      if (opLo === 'xor' && s.k === 'imm' && (w === 0 ? s.lo : s.hi) === 0xffffffff) alu(ctx, dest(d, w), NONE_SRC, 'not', right(from, w));
      else alu(ctx, dest(d, w), left(from, w), w === 0 ? opLo : opHi, sourceWord(ctx, s, w, 'b'));
    };
    word(0);
    if (kind.width === 64) {
      const operand = kind.useReg ? { reg: insn.src } : { imm: flipped ? flipped.imm : insn.imm };
      // Fused, d's high word was never written: it is computed whenever it is live, narrowed or not.
      const narrow = ctx.fuseLeft === undefined && enabled(ctx, 'narrow32') && narrowAlu(ctx.reads, flipped?.op ?? kind.op, d, operand);
      if (!narrow && !hiDead(ctx, d)) word(1);
    } else zext(ctx, d);
  };
}

const mov: AluLowering = (ctx, insn, kind) => {
  const d = mappedReg(ctx, insn.dst);
  if (kind.useReg && insn.src === FP && kind.width === 64) {
    // Without the verifier's types a copy of r10 could not be told from a packet pointer later.
    if (ctx.reads === undefined) throw unsupported(ctx, 'mov64 from r10 in a program the verifier did not type: its loads and stores could not be placed');
    // A stack pointer's value is its local-memory address (docs/nic-image.md "Pointers").
    loadImm32(ctx, dest(d, 0), ctx.frameTop);
    if (!hiDead(ctx, d)) loadImm32(ctx, dest(d, 1), 0);
    return;
  }
  const s = sourceOf(ctx, insn, kind.useReg);
  // A 64-bit move's high word, when nothing reads it before it is written again, is left alone (zext).
  const words = kind.width === 64 && !hiDead(ctx, d) ? ([0, 1] as const) : ([0] as const);
  for (const w of words) {
    if (s.k === 'reg') alu(ctx, dest(d, w), NONE_SRC, 'none', right(s.reg, w));
    else loadImm32(ctx, dest(d, w), w === 0 ? s.lo : s.hi);
  }
  if (kind.width === 32) zext(ctx, d);
};

const neg: AluLowering = (ctx, insn, kind) => {
  const d = mappedReg(ctx, insn.dst);
  alu(ctx, dest(d, 0), imm(0), 'sub', right(d, 0));
  if (kind.width === 64) {
    if (!hiDead(ctx, d)) alu(ctx, dest(d, 1), imm(0), 'sub_c', right(d, 1));
  } else zext(ctx, d);
};

type ShiftName = 'lsh' | 'rsh' | 'arsh';

/** The shift amount of a constant shift, checked against the width (the verifier's "invalid shift"). */
function shiftAmount(ctx: EmitCtx, insn: EbpfInsn, kind: AluKind): number {
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

/** narrow32 for a constant 64-bit shift: the value and the result both fit the low word (rsh/arsh by < 32, lsh keeping it below 2^32). */
function narrowShift(ctx: EmitCtx, name: ShiftName, d: number, n: number): boolean {
  if (!enabled(ctx, 'narrow32') || n >= 32) return false;
  const m = isPointer(ctx.reads, d) ? undefined : maxOf(ctx.reads, d);
  if (m === undefined) return false;
  if (name === 'lsh') return m << BigInt(n) < 1n << 32n;
  return m < (name === 'rsh' ? 1n << 32n : 1n << 31n);
}

/** `s`: the register shifted (the destination, or a fused move's source, which then needs d's high word written). */
function shift64(ctx: EmitCtx, name: ShiftName, d: number, n: number, s = d): void {
  if (n === 0) {
    if (s !== d) for (const w of [0, 1] as const) alu(ctx, dest(d, w), NONE_SRC, 'none', right(s, w));
    return;
  }
  if (name === 'lsh' && hiDead(ctx, d)) {
    if (n < 32) shf(ctx, dest(d, 0), NONE_SRC, 'none', right(s, 0), 'shl', n);
    else loadImm32(ctx, dest(d, 0), 0);
    return;
  }
  if ((s === d || hiDead(ctx, d)) && narrowShift(ctx, name, d, n)) {
    shf(ctx, dest(d, 0), NONE_SRC, 'none', right(s, 0), name === 'lsh' ? 'shl' : 'shr', n);
    return;
  }
  if (name === 'lsh') {
    if (n < 32) {
      shf(ctx, dest(d, 1), left(s, 1), 'none', right(s, 0), 'dshr', 32 - n);
      shf(ctx, dest(d, 0), NONE_SRC, 'none', right(s, 0), 'shl', n);
    } else {
      if (n === 32) alu(ctx, dest(d, 1), NONE_SRC, 'none', right(s, 0));
      else shf(ctx, dest(d, 1), NONE_SRC, 'none', right(s, 0), 'shl', n - 32);
      loadImm32(ctx, dest(d, 0), 0);
    }
    return;
  }
  if (n < 32) {
    shf(ctx, dest(d, 0), left(s, 1), 'none', right(s, 0), 'dshr', n);
    if (name === 'rsh') shf(ctx, dest(d, 1), NONE_SRC, 'none', right(s, 1), 'shr', n);
    else {
      signOf(ctx, s, 1);
      shf(ctx, dest(d, 1), NONE_SRC, 'ashr', right(s, 1), 'shr', n);
    }
    return;
  }
  if (name === 'rsh') {
    if (n === 32) alu(ctx, dest(d, 0), NONE_SRC, 'none', right(s, 1));
    else shf(ctx, dest(d, 0), NONE_SRC, 'none', right(s, 1), 'shr', n - 32);
    loadImm32(ctx, dest(d, 1), 0);
    return;
  }
  // arsh by 32..63: the move makes the high word the previous ALU result; the
  // alu_shf instructions after it leave that result alone.
  alu(ctx, dest(d, 0), NONE_SRC, 'none', right(s, 1));
  if (n > 32) shf(ctx, dest(d, 0), NONE_SRC, 'ashr', right(s, 1), 'shr', n - 32);
  shf(ctx, dest(d, 1), NONE_SRC, 'ashr', right(s, 1), 'shr', 31);
}

/** `alu[--, gprA_s, OR, 0]`: the low word of the amount register becomes `prevA` (the indirect amount). */
const amountOf = (ctx: EmitCtx, s: number): void => alu(ctx, NO_DST, left(s, 0), 'or', imm(0));

/** gprA_20 = amount & 31 (bit 31 clear, so that OR with a word keeps that word's sign). */
const maskedAmount = (ctx: EmitCtx, s: number): void => alu(ctx, gprA(TMP_GPR), left(s, 0), 'and', imm(31));

/** ASHR's two inputs at once: `prevA` = gprA_20 (the amount), `prevResult` bit 31 = the word's sign. */
const amountAndSign = (ctx: EmitCtx, d: number, w: 0 | 1): void => alu(ctx, NO_DST, gprA(TMP_GPR), 'or', right(d, w));

/** 32-bit shift by a register: the card's own indirect shift masks the amount to 31, as eBPF does. */
function shift32Reg(ctx: EmitCtx, name: ShiftName, d: number, s: number): void {
  if (name === 'arsh') {
    maskedAmount(ctx, s);
    amountAndSign(ctx, d, 0);
    shf(ctx, dest(d, 0), NONE_SRC, 'ashr', right(d, 0), 'shr', 'indirect');
  } else {
    amountOf(ctx, s);
    shf(ctx, dest(d, 0), NONE_SRC, 'none', right(d, 0), name === 'lsh' ? 'shl' : 'shr', 'indirect');
  }
  zext(ctx, d);
}

/**
 * 64-bit shift by a register (amount & 63): bit 5 of the amount picks one of two
 * blocks at run time, as the kernel's `shl_reg64`/`shr_reg64`/`ashr_reg64` do when the
 * verifier cannot bound the amount. Below 32 the word that takes bits from the other
 * is a double shift (`>>dbl indirect`, amount & 63 < 32; a left shift by n is the
 * double shift by 32 − n, 32 for n = 0); from 32 on, one word is the other shifted
 * by amount & 31 (which the single shifts take) and the other is 0 or the sign.
 */
function shift64Reg(ctx: EmitCtx, name: ShiftName, d: number, s: number): void {
  if (name === 'arsh') maskedAmount(ctx, s);
  alu(ctx, NO_DST, left(s, 0), 'and', imm(32)); // prevA = the amount; Z = (amount & 32) === 0
  const toBig = forwardBranch(ctx, 'ne');
  if (name === 'lsh') {
    alu(ctx, gprA(TMP_GPR), imm(32), 'sub', right(s, 0));
    alu(ctx, NO_DST, gprA(TMP_GPR), 'or', imm(0)); // prevA = 32 − amount (& 63: 1..32)
    shf(ctx, dest(d, 1), left(d, 1), 'none', right(d, 0), 'dshr', 'indirect');
    amountOf(ctx, s); // s's low word is intact: only d's high word was written
    shf(ctx, dest(d, 0), NONE_SRC, 'none', right(d, 0), 'shl', 'indirect');
  } else {
    shf(ctx, dest(d, 0), left(d, 1), 'none', right(d, 0), 'dshr', 'indirect');
    if (name === 'rsh') shf(ctx, dest(d, 1), NONE_SRC, 'none', right(d, 1), 'shr', 'indirect');
    else {
      amountAndSign(ctx, d, 1);
      shf(ctx, dest(d, 1), NONE_SRC, 'ashr', right(d, 1), 'shr', 'indirect');
    }
  }
  const toDone = forwardBranch(ctx, 'always');
  toBig();
  if (name === 'lsh') {
    shf(ctx, dest(d, 1), NONE_SRC, 'none', right(d, 0), 'shl', 'indirect');
    loadImm32(ctx, dest(d, 0), 0);
  } else if (name === 'rsh') {
    shf(ctx, dest(d, 0), NONE_SRC, 'none', right(d, 1), 'shr', 'indirect');
    loadImm32(ctx, dest(d, 1), 0);
  } else {
    amountAndSign(ctx, d, 1);
    shf(ctx, dest(d, 0), NONE_SRC, 'ashr', right(d, 1), 'shr', 'indirect');
    shf(ctx, dest(d, 1), NONE_SRC, 'ashr', right(d, 1), 'shr', 31);
  }
  toDone();
}

function shift(name: ShiftName): AluLowering {
  return (ctx, insn, kind) => {
    const d = mappedReg(ctx, insn.dst);
    if (kind.useReg) {
      const s = mappedReg(ctx, insn.src);
      if (kind.width === 64) shift64Reg(ctx, name, d, s);
      else shift32Reg(ctx, name, d, s);
      return;
    }
    const n = shiftAmount(ctx, insn, kind);
    if (kind.width === 64) shift64(ctx, name, d, n, ctx.fuseLeft ?? d);
    else shift32(ctx, name, d, n);
  };
}


/**
 * Multiply, the low 64 (or 32) bits of the product as eBPF keeps them. 32-bit: one
 * 32×32 sequence into the low word, then `immed[hi, 0]` (7 instructions). 64-bit,
 * from 32×32 partial products (d = dh:dl, s = sh:sl):
 *   dl·sh (low word) → gprB_20; dh·sl (low word) → gprA_20; their sum → gprB_20;
 *   dl·sl → low word straight into dl (last), high word into gprA_21 (last2);
 *   dh = gprA_21 + gprB_20.
 * The cross products come first, so that d = s (and d's own words) are read before
 * anything of d is written. A constant source's word goes through gprB_21 (loaded
 * before its sequence) unless it fits the operand field; a constant's high word is 0
 * or ~0, and a 0 high word drops dl·sh. 21 instructions (15 for a small constant).
 */
const mul: AluLowering = (ctx, insn, kind) => {
  const d = mappedReg(ctx, insn.dst);
  const s = sourceOf(ctx, insn, kind.useReg);
  if (kind.width === 32 || hiDead(ctx, d)) {
    mul32x32(ctx, left(d, 0), sourceWord(ctx, s, 0, 'b'), dest(d, 0));
    if (kind.width === 32) zext(ctx, d);
    return;
  }
  const crossHigh = s.k === 'reg' || s.hi !== 0;
  if (crossHigh) mul32x32(ctx, left(d, 0), sourceWord(ctx, s, 1, 'b'), gprB(TMP_GPR));
  mul32x32(ctx, left(d, 1), sourceWord(ctx, s, 0, 'b'), crossHigh ? gprA(TMP_GPR) : gprB(TMP_GPR));
  if (crossHigh) alu(ctx, gprB(TMP_GPR), gprA(TMP_GPR), 'add', gprB(TMP_GPR));
  mul32x32(ctx, left(d, 0), sourceWord(ctx, s, 0, 'b'), dest(d, 0), gprA(IMM_GPR));
  alu(ctx, dest(d, 1), gprA(IMM_GPR), 'add', gprB(TMP_GPR));
};

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
  mul,
  div: lowerDivMod,
  sdiv: refuse('signed divide: the NFP offload refuses it'),
  mod: lowerDivMod,
  smod: refuse('signed modulo: the NFP offload refuses it'),
  movsx: refuse('sign-extending move: not lowered yet'),
} satisfies Record<AluName, AluLowering | Refusal>;

export function lowerAlu(ctx: EmitCtx, insn: EbpfInsn, kind: AluKind): void {
  const entry: AluLowering | Refusal = ALU_LOWERINGS[kind.op];
  if ('refuse' in entry) throw unsupported(ctx, `${kind.width === 64 ? 'ALU64' : 'ALU32'} ${kind.op}: ${entry.refuse}`);
  entry(ctx, insn, kind);
}

/** An `immed[dst, 0]` (or `immed_w[dst, 0, <<16]` for the high half) that a relocation fills. */
function relocatedImmed(ctx: EmitCtx, d: GprDst, kind: CardRelocKind, map: number, offset: number, high: boolean): void {
  relocNext(ctx, kind, map, offset);
  const insn: ImmedInsn = high
    ? { cls: 'immed', dst: d, value: 0, width: 'word', invert: false, shift: 2 }
    : { cls: 'immed', dst: d, value: 0, width: 'all', invert: false, shift: 0 };
  emit(ctx, insn);
}

/**
 * `lddw dst, constant` (pseudo source 0): two 32-bit loads. A map (pseudo MAP_FD or
 * MAP_IDX) becomes its table id, a map value (MAP_VALUE, MAP_IDX_VALUE) the EMEM
 * address of its value 0 plus the offset in the second slot — both relocations the
 * image's loader fills (docs/nic-image.md), as the kernel replaces map pointers with
 * the firmware's table ids when it loads the program.
 */
export function lowerLddw(ctx: EmitCtx, insn: EbpfInsn, kind: Extract<InsnKind, { k: 'lddw' }>): void {
  const d = mappedReg(ctx, insn.dst);
  switch (kind.pseudo) {
    case LddwSrc.IMM64: {
      const v = lddwValue(insn);
      loadImm32(ctx, dest(d, 0), Number(v & 0xffffffffn));
      if (!hiDead(ctx, d)) loadImm32(ctx, dest(d, 1), Number(v >> 32n));
      return;
    }
    case LddwSrc.MAP_FD:
    case LddwSrc.MAP_IDX:
      relocatedImmed(ctx, dest(d, 0), 'map-id', insn.imm, 0, false);
      zeroHigh(ctx, d);
      return;
    case LddwSrc.MAP_VALUE:
    case LddwSrc.MAP_IDX_VALUE: {
      const offset = insn.next?.imm ?? 0;
      relocatedImmed(ctx, dest(d, 0), 'map-value-lo', insn.imm, offset, false);
      relocatedImmed(ctx, dest(d, 0), 'map-value-hi', insn.imm, offset, true);
      zeroHigh(ctx, d);
      return;
    }
    default:
      throw unsupported(ctx, `lddw with pseudo source ${kind.pseudo} (a BTF object or a function): not offloadable`);
  }
}
