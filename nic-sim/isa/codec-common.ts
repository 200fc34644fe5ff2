/**
 * What every class codec shares: its interface, field placement bound to an error
 * reporter, and the A/B source pair with its I8 and SRC_LMEXTN bits.
 */
import type { Fail } from './errors.js';
import { getField, putField, type Mask } from './fields.js';
import type { InsnOf, Insn } from './instructions.js';
import { decodeSrc, encodeSrc, formatOperand, type Encoding, type EncodeOptions, type Src } from './operands.js';
import type { CodeTable } from './tables.js';

/** Encoder and decoder of one instruction class; `decode` sees a word already known to be of the class. */
export interface Codec<C extends Insn['cls']> {
  encode(insn: InsnOf<C>, fail: Fail): bigint;
  decode(word: bigint, fail: Fail): InsnOf<C>;
}

export const hex = (v: number | bigint): string => `0x${v.toString(16)}`;

/** A field placer that reports through `fail`. */
export const placer =
  (fail: Fail) =>
  (mask: Mask, value: number | boolean, name: string): bigint =>
    putField(mask, value, name, fail);

/** The code of a name, refusing names the table does not have (hand-built instructions). */
export function codeOf<N extends string>(table: CodeTable<N>, name: N, what: string, fail: Fail): number {
  const c = (table.code as Record<string, number | undefined>)[name];
  if (c === undefined) fail(`${what} ${String(name)} is not one of ${table.names.join(', ')}`);
  return c as number;
}

/** The name of a code, refusing unassigned codes. */
export function nameOf<N extends string>(table: CodeTable<N>, code: number, what: string, fail: Fail): N {
  return table.nameOf(code) ?? fail(`${what} ${hex(code)} is not assigned`);
}

export function checkRange(what: string, v: number, min: number, max: number, fail: Fail): void {
  if (!Number.isInteger(v) || v < min || v > max) fail(`${what} ${v} is out of range (${min}..${max})`);
}

export interface EncodedPair {
  readonly a: number;
  readonly b: number;
  readonly i8: boolean;
  readonly srcLmHi: boolean;
}

/**
 * The A and B source codes. One I8 bit serves both fields, so an immediate above 0x7f
 * cannot sit next to another immediate; one SRC_LMEXTN bit serves both, so two LM
 * sources must agree on their index's high bit.
 */
export function encodePair(a: Src, b: Src, enc: Encoding, fail: Fail, opts: EncodeOptions): EncodedPair {
  const ea = encodeSrc(a, 'A', enc, fail, opts);
  const eb = encodeSrc(b, 'B', enc, fail, opts);
  if ((ea.i8 || eb.i8) && a.k === 'imm' && b.k === 'imm') {
    fail(`operands ${formatOperand(a)} and ${formatOperand(b)}: an immediate above 0x7f needs the I8 bit, which two immediates would share`);
  }
  if (a.k === 'lm' && b.k === 'lm' && ea.lmHi !== eb.lmHi) {
    fail(`operands ${formatOperand(a)} and ${formatOperand(b)} cannot be read together: one SRC_LMEXTN bit serves both`);
  }
  return { a: ea.code, b: eb.code, i8: ea.i8 || eb.i8, srcLmHi: ea.lmHi || eb.lmHi };
}

/** The A and B sources of a word, with I8 and SRC_LMEXTN applied; stray I8/LMEXTN bits are refused. */
export function decodePair(
  word: bigint,
  masks: { aSrc: Mask; bSrc: Mask; i8?: Mask; srcLmExtn?: Mask },
  enc: Encoding,
  fail: Fail,
): [Src, Src] {
  const lmHi = masks.srcLmExtn !== undefined && getField(word, masks.srcLmExtn) === 1;
  let a = decodeSrc(getField(word, masks.aSrc), 'A', enc, lmHi, fail);
  let b = decodeSrc(getField(word, masks.bSrc), 'B', enc, lmHi, fail);
  if (masks.i8 !== undefined && getField(word, masks.i8) === 1) {
    if (a.k === 'imm' && b.k === 'imm') fail('I8 is set and both A and B hold immediates');
    if (a.k === 'imm') a = { k: 'imm', value: a.value | 0x80 };
    else if (b.k === 'imm') b = { k: 'imm', value: b.value | 0x80 };
    else fail('I8 is set but neither A nor B holds an immediate');
  }
  if (lmHi && a.k !== 'lm' && b.k !== 'lm') fail('SRC_LMEXTN is set but no source is in local memory');
  return [a, b];
}

/**
 * Classes that read one register and one immediate (BR_BYTE, BR_BIT, BR_ALU, LOCAL_CSR):
 * the register goes in the A field unless it is a bank-B GPR; the immediate fills the other.
 */
export function placeRegImm(reg: Src, immValue: number, what: string, fail: Fail): [Src, Src] {
  if (reg.k === 'imm') fail(`${what} reads a register, not the immediate ${formatOperand(reg)}`);
  const i: Src = { k: 'imm', value: immValue };
  return reg.k === 'gpr' && reg.bank === 'b' ? [i, reg] : [reg, i];
}

/** The register and immediate of a placeRegImm pair, refusing other placements. */
export function splitRegImm(a: Src, b: Src, what: string, fail: Fail): { reg: Src; value: number } {
  if (a.k === 'imm' && b.k === 'imm') fail(`${what}: A and B both hold immediates`);
  if (a.k !== 'imm' && b.k !== 'imm') fail(`${what}: neither A nor B holds an immediate`);
  if (b.k === 'imm') return { reg: a, value: b.value };
  if (a.k !== 'imm') return fail(`${what}: unreachable`);
  if (b.k !== 'gpr') fail(`${what}: with the immediate in A, B must be a bank-B GPR (this project's placement), not ${formatOperand(b)}`);
  return { reg: b, value: a.value };
}

