/**
 * What the disassembler prints and the assembler reads back, in one place: the
 * mnemonic of each form, shift and multiply-step spellings, which operand an operation
 * does not read (printed `--`), and the rule that places logical operands in the A
 * and B fields.
 *
 * Placement (the kernel JIT's `swreg_to_unrestricted`/`swreg_to_restricted`): the
 * operands are swapped — the left one in B, the right one in A, SW set — when the left
 * one is a bank-B GPR or the right one a bank-A GPR. When neither operand is a GPR the
 * default is no swap, and a word that swaps them anyway is printed with a `swap` option.
 */
import type { AluInsn, AluShfInsn, InsnOf, LdFieldInsn, ShiftAmount } from './instructions.js';
import type { Bank, Src } from './operands.js';
import type { CmdAction, MulSize, ShiftClass } from './tables.js';

/** Bank a printed operand asks for: gprA_n in A, gprB_n in B; anything else (gprAB_n too) either. */
export type BankWish = Bank | null;

export const inferSwap = (left: BankWish, right: BankWish): boolean => left === 'b' || right === 'a';

/** Whether the operation reads its left operand (when it does not, a left GPR 0 prints as `--`). */
export function readsLeft(i: AluInsn | AluShfInsn | LdFieldInsn): boolean {
  if (i.cls === 'alu') return i.op !== 'none' && i.op !== 'not';
  if (i.cls === 'alu_shf') return i.op === 'ashr' ? false : i.op !== 'none' || i.sc === 'dshr';
  return true;
}

/** A GPR 0 that the operation does not read: printed, and read back, as `--`. */
export const isUnusedZero = (op: Src): boolean => op.k === 'gpr' && op.n === 0;

// ---- shifts ----

/** `>>rot 8`, `>>3`, `<<indirect`, `>>dbl 5`; '' for no shift (rotation by 0). */
export function formatShift(sc: ShiftClass, amount: ShiftAmount): string {
  const n = String(amount);
  switch (sc) {
    case 'rot':
      return amount === 0 ? '' : `>>rot ${n}`;
    case 'shr':
      return `>>${n}`;
    case 'shl':
      return `<<${n}`;
    case 'dshr':
      return `>>dbl ${n}`;
  }
}

export interface ParsedShift {
  readonly sc: ShiftClass;
  readonly amount: ShiftAmount;
}

/** Reads formatShift's text; undefined when it is not a shift. */
export function parseShift(text: string): ParsedShift | undefined {
  const m = /^(<<|>>)\s*(rot|dbl)?\s*(indirect|\d+)$/i.exec(text.trim());
  if (!m) return undefined;
  const dir = m[1] as string;
  const kind = (m[2] ?? '').toLowerCase();
  const amount: ShiftAmount = (m[3] as string).toLowerCase() === 'indirect' ? 'indirect' : Number(m[3]);
  if (dir === '<<') return kind === '' ? { sc: 'shl', amount } : undefined;
  if (kind === 'rot') return { sc: 'rot', amount };
  if (kind === 'dbl') return { sc: 'dshr', amount };
  return { sc: 'shr', amount };
}

// ---- mnemonics ----

export const LD_FIELD_MNEMONIC = { keep: 'ld_field', zero: 'ld_field_w_clr' } as const;
export const BR_BYTE_MNEMONIC = { equal: 'br=byte', notEqual: 'br!=byte' } as const;
export const BR_BIT_MNEMONIC = { set: 'br_bset', clear: 'br_bclr' } as const;
export const RTN_MNEMONIC = 'rtn';
export const CSR_MNEMONIC = { write: 'local_csr_wr', read: 'local_csr_rd' } as const;
export const MUL_MNEMONIC = 'mul_step';
export const NOP_MNEMONIC = 'nop';

/** A command's action word: `read32`, `write8_swap`, ... */
export const formatAction = (action: CmdAction, byteSwap: boolean): string => (byteSwap ? `${action}_swap` : action);

/** The multiply-step option: `start`, `32x32_step2`, `16x16_last`, `32x32_last2`. */
export function formatMulStep(i: InsnOf<'mul'>): string {
  if (i.step === 'start') return 'start';
  if (i.step === 'last' || i.step === 'last2') return `${i.size}_${i.step}`;
  return `${i.size}_step${i.step}`;
}

export type ParsedMulStep =
  | { readonly step: 'start' }
  | { readonly step: 1 | 2 | 3 | 4 | 'last' | 'last2'; readonly size: MulSize };

export function parseMulStep(text: string): ParsedMulStep | undefined {
  if (text === 'start') return { step: 'start' };
  const m = /^(24x8|16x16|32x32)_(step([1-4])|last2|last)$/.exec(text);
  if (!m) return undefined;
  const size = m[1] as MulSize;
  if (m[3] !== undefined) return { step: Number(m[3]) as 1 | 2 | 3 | 4, size };
  return { step: m[2] as 'last' | 'last2', size };
}

/** Options after the closing bracket. */
export const OPT = {
  swap: 'swap', defer: 'defer', ctxSwap: 'ctx_swap', indirect: 'indirect_ref',
} as const;
