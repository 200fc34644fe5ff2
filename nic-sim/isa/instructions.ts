/**
 * A decoded card instruction: one variant per instruction class, with named fields.
 *
 * Operands are kept where the word keeps them: `a` is the A-field operand, `b` the
 * B-field one, and `swap` (the SW bit) says the operation reads them the other way
 * round. The logical left and right operands of an ALU-like instruction are
 * `swap ? [b, a] : [a, b]` (`logicalOperands`). A GPR in the A field is in bank A,
 * one in the B field in bank B; the encoder refuses the other way.
 *
 * Every field value is canonical: `decode(encode(i))` gives back `i`, and each word
 * that decodes gives back itself when encoded (docs/nic-isa.md lists the rules).
 */
import type { Dst, Src } from './operands.js';
import type {
  AluOp, BrCond, CmdAction, CmdMode, CsrName, ImmedWidth, MemTarget, MulSize, ShfOp, ShiftClass,
} from './tables.js';

export type { Dst, Src } from './operands.js';

/** `alu[dst, l, op, r]`: dst = l op r; the only class that sets the condition codes. */
export interface AluInsn {
  readonly cls: 'alu';
  readonly op: AluOp;
  readonly dst: Dst;
  readonly a: Src;
  readonly b: Src;
  readonly swap: boolean;
}

/** A shift amount: 0..31, or taken at run time from the previous ALU instruction's A operand. */
export type ShiftAmount = number | 'indirect';

/** `alu_shf[dst, l, op, r, shift]`: dst = l op shift(r) (restricted operands). */
export interface AluShfInsn {
  readonly cls: 'alu_shf';
  readonly op: ShfOp;
  readonly dst: Dst;
  readonly a: Src;
  readonly b: Src;
  readonly swap: boolean;
  readonly sc: ShiftClass;
  /** rot: 0..31 (0 = none); shr, shl: 1..31 or 'indirect'; dshr: 1..31 or 'indirect'. */
  readonly shift: ShiftAmount;
}

/** `ld_field[dst, mask, src, shift]`: the bytes of shift(src) selected by `byteMask` replace those of dst. */
export interface LdFieldInsn {
  readonly cls: 'ld_field';
  /** dst (also read) is the logical left operand, src the right one. */
  readonly a: Src;
  readonly b: Src;
  readonly swap: boolean;
  /** Write the destination GPR in both banks (WR_AB). */
  readonly wrBoth: boolean;
  /** Bit i selects byte i (bits 8i+7..8i). */
  readonly byteMask: number;
  /** ZF: bytes not selected become zero instead of keeping the destination's. */
  readonly zero: boolean;
  readonly sc: Exclude<ShiftClass, 'dshr'>;
  /** 0..31; no indirect form. */
  readonly shift: number;
}

/** `immed[dst, value, <<8*shift]`. */
export interface ImmedInsn {
  readonly cls: 'immed';
  readonly dst: Dst;
  /** 0..0xffff (0..0xff for width 'byte'). */
  readonly value: number;
  readonly width: ImmedWidth;
  readonly invert: boolean;
  /** Bytes: 0, 1 or 2. */
  readonly shift: number;
}

/** `br[target]`, `beq[target]`, ...: branch on the condition codes. */
export interface BrInsn {
  readonly cls: 'br';
  readonly cond: BrCond;
  /** Instruction address 0..0x3fff. */
  readonly target: number;
  readonly defer: number;
}

/** `br=byte[src, byte, value, target]` / `br!=byte[...]`. */
export interface BrByteInsn {
  readonly cls: 'br_byte';
  readonly equal: boolean;
  readonly src: Src;
  readonly byte: number;
  readonly value: number;
  readonly target: number;
  readonly defer: number;
}

/** `br_bset[src, bit, target]` / `br_bclr[...]`. */
export interface BrBitInsn {
  readonly cls: 'br_bit';
  readonly set: boolean;
  readonly src: Src;
  readonly bit: number;
  readonly target: number;
  readonly defer: number;
}

/** `rtn[src]`: branch to the address held in a register (BR_ALU with a zero immediate). */
export interface BrAluInsn {
  readonly cls: 'br_alu';
  readonly src: Src;
  readonly defer: number;
}

/** `ctm[read32, $xfer_0, a, b, length], ctx_swap[sig1]`: a memory command. */
export interface CmdInsn {
  readonly cls: 'cmd';
  readonly target: MemTarget;
  readonly action: CmdAction;
  /** TOKEN: words moved in little-endian byte order. */
  readonly byteSwap: boolean;
  /** First transfer register. */
  readonly xfer: number;
  /** Words (read32, write32, add32), 64-bit values (add64) or bytes (read8, write8): 1..8. */
  readonly length: number;
  /** Address operands, A field then B field (restricted; no swap in this class). */
  readonly a: Src;
  readonly b: Src;
  /** Whether the thread swaps out until the signal. */
  readonly ctxSwap: boolean;
  /** Instructions run before the swap (0..2; 0 without a swap). */
  readonly defer: number;
  /** Signal the swap waits for, 1..15; 0 without a swap. */
  readonly sig: number;
  readonly mode: CmdMode;
  /** Length taken from the previous ALU result when its CMD_OVE_LEN bit is set. */
  readonly indirect: boolean;
}

export interface LocalCsrWrInsn {
  readonly cls: 'local_csr';
  readonly write: true;
  readonly csr: CsrName;
  readonly src: Src;
}

/** Read: the value arrives in the next instruction, an `immed[dst, 0]`. */
export interface LocalCsrRdInsn {
  readonly cls: 'local_csr';
  readonly write: false;
  readonly csr: CsrName;
}

export interface MulStartInsn {
  readonly cls: 'mul';
  readonly step: 'start';
  readonly a: Src;
  readonly b: Src;
  readonly swap: boolean;
}

export interface MulStepInsn {
  readonly cls: 'mul';
  readonly step: 1 | 2 | 3 | 4;
  readonly size: MulSize;
  readonly a: Src;
  readonly b: Src;
  readonly swap: boolean;
}

/** Writes the product: low 32 bits ('last') or high 32 bits ('last2', 32x32 only). */
export interface MulLastInsn {
  readonly cls: 'mul';
  readonly step: 'last' | 'last2';
  readonly size: MulSize;
  readonly dst: Dst;
}

export type MulInsn = MulStartInsn | MulStepInsn | MulLastInsn;

export const isMulLast = (i: MulInsn): i is MulLastInsn => i.step === 'last' || i.step === 'last2';
export type LocalCsrInsn = LocalCsrWrInsn | LocalCsrRdInsn;

export type Insn =
  | AluInsn | AluShfInsn | LdFieldInsn | ImmedInsn | BrInsn | BrByteInsn | BrBitInsn | BrAluInsn | CmdInsn
  | LocalCsrInsn | MulInsn;

export type InsnOf<C extends Insn['cls']> = Extract<Insn, { cls: C }>;

/** The left and right operands as the operation reads them. */
export const logicalOperands = (i: { a: Src; b: Src; swap: boolean }): [Src, Src] =>
  i.swap ? [i.b, i.a] : [i.a, i.b];

/** The instruction the kernel JIT pads with (`emit_nop`): `immed[--, 0]`. */
export const NOP: ImmedInsn = {
  cls: 'immed', dst: { k: 'none' }, value: 0, width: 'all', invert: false, shift: 0,
};

export const isNop = (i: Insn): boolean =>
  i.cls === 'immed' && i.dst.k === 'none' && i.value === 0 && i.width === 'all' && !i.invert && i.shift === 0;
