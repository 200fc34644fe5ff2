/**
 * Operand and number text as the assembler reads it, and the placement of logical
 * operands into the A and B fields (syntax.ts `inferSwap`).
 */
import type { Fail } from './errors.js';
import type { Bank, Dst, Lm, Src } from './operands.js';
import { inferSwap, type BankWish } from './syntax.js';

/** An operand as written: `--` is "unused" (a GPR 0 as a source, no destination as a destination). */
export type WrittenOperand =
  | { readonly k: 'unused' }
  | { readonly k: 'gpr'; readonly bank: Bank | 'ab'; readonly n: number }
  | { readonly k: 'xfer'; readonly n: number }
  | Lm
  | { readonly k: 'imm'; readonly value: number };

const NUMBER = /^(0x[0-9a-f]+|\d+)$/i;

export function parseNumber(text: string, what: string, fail: Fail): number {
  const t = text.trim();
  if (!NUMBER.test(t)) fail(`${what}: expected a number, found "${t}"`);
  const v = Number(t);
  if (!Number.isSafeInteger(v)) fail(`${what}: ${t} is too large`);
  return v;
}

export function parseOperand(text: string, fail: Fail): WrittenOperand {
  const t = text.trim();
  if (t === '--') return { k: 'unused' };
  let m = /^gpr(ab|a|b)_(\d+)$/i.exec(t);
  if (m) return { k: 'gpr', bank: (m[1] as string).toLowerCase() as Bank | 'ab', n: Number(m[2]) };
  m = /^\$xfer_(\d+)$/i.exec(t);
  if (m) return { k: 'xfer', n: Number(m[1]) };
  m = /^\*l\$index(\d+)(?:\[\s*(0x[0-9a-f]+|\d+)\s*\]|(\+\+)|(--))?$/i.exec(t);
  if (m) {
    const post = m[3] ? 'inc' : m[4] ? 'dec' : 'none';
    return { k: 'lm', index: Number(m[1]), off: m[2] !== undefined ? Number(m[2]) : 0, post };
  }
  if (NUMBER.test(t)) return { k: 'imm', value: parseNumber(t, 'immediate', fail) };
  return fail(`"${t}" is not an operand (gprA_n, gprB_n, $xfer_n, *l$indexN[off], *l$indexN++, a number or --)`);
}

/** The bank a written operand asks for. */
export const wishOf = (op: WrittenOperand): BankWish => (op.k === 'gpr' && op.bank !== 'ab' ? op.bank : null);

const fieldBank = (field: 'A' | 'B'): Bank => (field === 'A' ? 'a' : 'b');

/** A written operand as the source in a field; `--` is GPR 0 of the field's bank. */
export function toSrc(op: WrittenOperand, field: 'A' | 'B', fail: Fail, allowBoth = false): Src {
  const bank = fieldBank(field);
  switch (op.k) {
    case 'unused':
      return { k: 'gpr', bank, n: 0 };
    case 'gpr':
      if (op.bank === 'ab' && !allowBoth) fail(`gprAB_${op.n} (both banks) is only a destination`);
      if (op.bank !== 'ab' && op.bank !== bank) {
        fail(`gpr${op.bank.toUpperCase()}_${op.n} cannot be in the ${field} field here: an instruction reads one operand from each bank`);
      }
      return { k: 'gpr', bank, n: op.n };
    default:
      return op;
  }
}

/** A written operand as a register read on its own (its bank its own); immediates allowed when `imm`. */
export function toReg(op: WrittenOperand, fail: Fail, allowImm = false): Src {
  if (op.k === 'unused') return fail('expected a register, found --');
  if (op.k === 'gpr') {
    if (op.bank === 'ab') fail(`gprAB_${op.n} (both banks) is only a destination`);
    return { k: 'gpr', bank: op.bank as Bank, n: op.n };
  }
  if (op.k === 'imm' && !allowImm) fail(`expected a register, found the immediate ${op.value}`);
  return op;
}

export function toDst(op: WrittenOperand, fail: Fail): Dst {
  switch (op.k) {
    case 'unused':
      return { k: 'none' };
    case 'imm':
      return fail(`a destination cannot be the immediate ${op.value}`);
    default:
      return op;
  }
}

export interface Placed {
  readonly a: Src;
  readonly b: Src;
  readonly swap: boolean;
}

/** Left and right operands into fields: swapped by `inferSwap`, or always when `forceSwap`. */
export function place(left: WrittenOperand, right: WrittenOperand, forceSwap: boolean, fail: Fail, leftBoth = false): Placed {
  const swap = forceSwap || inferSwap(wishOf(left), wishOf(right));
  const [inA, inB, bothA, bothB] = swap ? [right, left, false, leftBoth] : [left, right, leftBoth, false];
  return { a: toSrc(inA, 'A', fail, bothA), b: toSrc(inB, 'B', fail, bothB), swap };
}
