/**
 * One line of text per card instruction, in this project's NFP-like syntax
 * (docs/nic-isa.md "Assembler syntax"); the assembler reads every line back to the
 * same instruction. Branch targets print as `.N` (instruction address) unless a label
 * is given for the address.
 */
import { decodeWord } from './decode.js';
import type { Insn, InsnOf } from './instructions.js';
import { isMulLast, isNop, logicalOperands } from './instructions.js';
import { formatNumber, formatOperand, type Src } from './operands.js';
import {
  BR_BIT_MNEMONIC, BR_BYTE_MNEMONIC, CSR_MNEMONIC, LD_FIELD_MNEMONIC, MUL_MNEMONIC, NOP_MNEMONIC, OPT, RTN_MNEMONIC,
  formatAction, formatMulStep, formatShift, inferSwap, isUnusedZero, readsLeft, type BankWish,
} from './syntax.js';
import { ALU_OP_TEXT, BR_MNEMONIC, IMMED_MNEMONIC, SHF_OP_TEXT } from './tables.js';

export interface DisasmOptions {
  /** Names to print for branch targets. */
  readonly labels?: ReadonlyMap<number, string>;
}

/** The bank the assembler will want for a printed operand. */
const wish = (text: string): BankWish => (text.startsWith('gprA_') ? 'a' : text.startsWith('gprB_') ? 'b' : null);

/** The left and right operand texts of a SW-class instruction, and its options (`swap` when placement must be forced). */
function swapped(i: { a: Src; b: Src; swap: boolean }, leftText: string, rightText: string): string[] {
  return inferSwap(wish(leftText), wish(rightText)) === i.swap ? [] : [OPT.swap];
}

const leftText = (op: Src, reads: boolean): string => (!reads && isUnusedZero(op) ? '--' : formatOperand(op));

const target = (t: number, opts: DisasmOptions): string => opts.labels?.get(t) ?? `.${t}`;
const defer = (n: number): string[] => (n > 0 ? [`${OPT.defer}[${n}]`] : []);
const line = (mnemonic: string, args: string[], options: string[] = []): string =>
  [`${mnemonic}[${args.join(', ')}]`, ...options].join(', ');

const FORMAT: { [C in Insn['cls']]: (i: InsnOf<C>, opts: DisasmOptions) => string } = {
  alu(i) {
    const [l, r] = logicalOperands(i);
    const lt = leftText(l, readsLeft(i));
    const rt = formatOperand(r);
    return line('alu', [formatOperand(i.dst), lt, ALU_OP_TEXT[i.op], rt], swapped(i, lt, rt));
  },
  alu_shf(i) {
    const [l, r] = logicalOperands(i);
    const lt = leftText(l, readsLeft(i));
    const rt = formatOperand(r);
    const shift = formatShift(i.sc, i.shift);
    const args = [formatOperand(i.dst), lt, SHF_OP_TEXT[i.op], rt, ...(shift ? [shift] : [])];
    return line('alu_shf', args, swapped(i, lt, rt));
  },
  ld_field(i) {
    const [l, r] = logicalOperands(i);
    const lt = i.wrBoth && l.k === 'gpr' ? `gprAB_${l.n}` : formatOperand(l);
    const rt = formatOperand(r);
    const shift = formatShift(i.sc, i.shift);
    const mask = i.byteMask.toString(2).padStart(4, '0');
    const args = [lt, mask, rt, ...(shift ? [shift] : [])];
    return line(i.zero ? LD_FIELD_MNEMONIC.zero : LD_FIELD_MNEMONIC.keep, args, swapped(i, lt, rt));
  },
  immed(i) {
    if (isNop(i)) return NOP_MNEMONIC;
    const value = `${i.invert ? '~' : ''}${formatNumber(i.value)}`;
    const args = [formatOperand(i.dst), value, ...(i.shift ? [`<<${i.shift * 8}`] : [])];
    return line(IMMED_MNEMONIC[i.width], args);
  },
  br(i, opts) {
    return line(BR_MNEMONIC[i.cond], [target(i.target, opts)], defer(i.defer));
  },
  br_byte(i, opts) {
    const m = i.equal ? BR_BYTE_MNEMONIC.equal : BR_BYTE_MNEMONIC.notEqual;
    return line(m, [formatOperand(i.src), String(i.byte), formatNumber(i.value), target(i.target, opts)], defer(i.defer));
  },
  br_bit(i, opts) {
    const m = i.set ? BR_BIT_MNEMONIC.set : BR_BIT_MNEMONIC.clear;
    return line(m, [formatOperand(i.src), String(i.bit), target(i.target, opts)], defer(i.defer));
  },
  br_alu(i) {
    return line(RTN_MNEMONIC, [formatOperand(i.src)], defer(i.defer));
  },
  cmd(i) {
    const args = [formatAction(i.action, i.byteSwap), `$xfer_${i.xfer}`, formatOperand(i.a), formatOperand(i.b), String(i.length)];
    const options = [
      ...(i.ctxSwap ? [`${OPT.ctxSwap}[sig${i.sig}]`] : []),
      ...defer(i.defer),
      ...(i.indirect ? [OPT.indirect] : []),
      ...(i.mode !== 'addr32' ? [i.mode] : []),
    ];
    return line(i.target, args, options);
  },
  local_csr(i) {
    return i.write ? line(CSR_MNEMONIC.write, [i.csr, formatOperand(i.src)]) : line(CSR_MNEMONIC.read, [i.csr]);
  },
  mul(i) {
    if (isMulLast(i)) return line(MUL_MNEMONIC, [formatOperand(i.dst), '--'], [formatMulStep(i)]);
    const [l, r] = logicalOperands(i);
    const lt = formatOperand(l);
    const rt = formatOperand(r);
    return line(MUL_MNEMONIC, [lt, rt], [formatMulStep(i), ...swapped(i, lt, rt)]);
  },
};

export function disasmInsn(insn: Insn, opts: DisasmOptions = {}): string {
  return (FORMAT[insn.cls] as (i: Insn, o: DisasmOptions) => string)(insn, opts);
}

/** Text of an image, one line per word (decode errors throw, naming the word). */
export const disasmWords = (words: readonly bigint[], opts: DisasmOptions = {}): string[] =>
  words.map((w, i) => disasmInsn(decodeWord(w, i), opts));

export const disasmProgram = (insns: readonly Insn[], opts: DisasmOptions = {}): string[] =>
  insns.map((i) => disasmInsn(i, opts));
