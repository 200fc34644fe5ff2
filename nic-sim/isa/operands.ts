/**
 * Operands and their two field encodings (nfp_asm.h `UR_REG_*`, `RE_REG_*`):
 *
 * unrestricted (10-bit A/B/DST fields of ALU, IMMED, BR_ALU, LOCAL_CSR, MUL)
 *   0x000-0x01f GPR n (bank by field)      0x180-0x19f $xfer_n (UR_REG_XFR | n)
 *   0x200-0x23f LM (UR_REG_LM | index bit 0x20 | offset 0..15, or post-modify 0x10 [| dec 0x01])
 *   0x300-0x3ff immediate 0..255 as a source (UR_REG_IMM | v); 0x300 alone = no destination
 * restricted (8-bit fields of ALU_SHF, LD_FIELD, BR_BYTE, BR_BIT, CMD)
 *   0x00-0x1f GPR n        0x80-0x9f $xfer_n (RE_REG_XFR | n)
 *   0x50-0x5f LM (RE_REG_LM | index bit 0x08 | offset 0..7)
 *   bit 0x20 set: immediate 0..0x7f as RE_REG_IMM_encode (0x20 | v & 0x1f | (v & 0x60) << 1),
 *                 its bit 7 in the class's I8 bit; 0x20 alone = no destination
 * Every other code is unassigned in this project (the header's next-neighbour
 * registers, UR_REG_NN 0x280, are not part of this machine) and refused.
 * LM index bit 1 is not in the operand: it is the instruction's SRC_LMEXTN (sources)
 * or DST_LMEXTN (destination) bit.
 */
import type { Fail } from './errors.js';
import { GPR_COUNT, LM_INDEX_COUNT, XFER_COUNT } from './tables.js';

export type Bank = 'a' | 'b';
export type LmPost = 'none' | 'inc' | 'dec';

export interface Gpr {
  readonly k: 'gpr';
  readonly bank: Bank;
  readonly n: number;
}
export interface GprDst {
  readonly k: 'gpr';
  /** 'ab': written to both banks (WR_AB). */
  readonly bank: Bank | 'ab';
  readonly n: number;
}
/** A transfer register: read as a source it is transfer-in, written as a destination transfer-out. */
export interface Xfer {
  readonly k: 'xfer';
  readonly n: number;
}
/** Local memory through pointer `index`: the word at ACT_LM_ADDRn | off*4, or at the pointer, then ±4. */
export interface Lm {
  readonly k: 'lm';
  readonly index: number;
  readonly off: number;
  readonly post: LmPost;
}
export interface Imm {
  readonly k: 'imm';
  readonly value: number;
}
export interface NoDst {
  readonly k: 'none';
}

export type Src = Gpr | Xfer | Lm | Imm;
export type Dst = GprDst | Xfer | Lm | NoDst;

/** Unrestricted (10-bit) or restricted (8-bit) field. */
export type Encoding = 'ur' | 're';
export type FieldName = 'A' | 'B';

export const UR = {
  XFR: 0x180, LM: 0x200, LM_IDX: 0x020, LM_POST_MOD: 0x010, LM_POST_MOD_DEC: 0x001, LM_IDX_MAX: 0xf, NN: 0x280,
  NO_DST: 0x300, IMM: 0x300, IMM_MAX: 0xff,
} as const;
export const RE = {
  NO_DST: 0x020, IMM: 0x020, IMM_MAX: 0x7f, LM: 0x050, LM_IDX: 0x008, LM_IDX_MAX: 0x7, XFR: 0x080,
} as const;

export const RE_REG_IMM_encode = (v: number): number => RE.IMM | (v & 0x1f) | ((v & 0x60) << 1);
const reImmDecode = (code: number): number => (code & 0x1f) | ((code >> 1) & 0x60);

/** Source or destination operand, for building instructions by hand. */
export const gprA = (n: number): Gpr => ({ k: 'gpr', bank: 'a', n });
export const gprB = (n: number): Gpr => ({ k: 'gpr', bank: 'b', n });
export const gprAB = (n: number): GprDst => ({ k: 'gpr', bank: 'ab', n });
export const xfer = (n: number): Xfer => ({ k: 'xfer', n });
export const imm = (value: number): Imm => ({ k: 'imm', value });
export const lm = (index: number, off = 0, post: LmPost = 'none'): Lm => ({ k: 'lm', index, off, post });
export const NO_DST: NoDst = { k: 'none' };

// ---- text ----

export const formatNumber = (v: number): string => (v < 10 ? String(v) : `0x${v.toString(16)}`);

const BANK_TEXT = { a: 'A', b: 'B', ab: 'AB' } as const;

/** Assembler text of an operand: `gprA_3`, `$xfer_0`, `*l$index1[2]`, `*l$index3++`, `0x1f`, `--`. */
export function formatOperand(op: Src | Dst): string {
  switch (op.k) {
    case 'gpr':
      return `gpr${BANK_TEXT[op.bank]}_${op.n}`;
    case 'xfer':
      return `$xfer_${op.n}`;
    case 'lm':
      if (op.post === 'inc') return `*l$index${op.index}++`;
      if (op.post === 'dec') return `*l$index${op.index}--`;
      return op.off === 0 ? `*l$index${op.index}` : `*l$index${op.index}[${op.off}]`;
    case 'imm':
      return formatNumber(op.value);
    case 'none':
      return '--';
  }
}

// ---- encoding ----

export interface EncodeOptions {
  /** The class has an I8 bit (restricted immediates up to 0xff). */
  readonly i8?: boolean;
  /** The class has the LMEXTN bit this operand would need (LM index 2, 3). */
  readonly lmExtn?: boolean;
}

export interface EncodedOperand {
  readonly code: number;
  /** Restricted immediate above 0x7f: the class's I8 bit. */
  readonly i8: boolean;
  /** LM index 2 or 3: the class's LMEXTN bit. */
  readonly lmHi: boolean;
}

const where = (field: FieldName | 'DST'): string => (field === 'DST' ? 'the destination field' : `the ${field} field`);
const encName = (enc: Encoding): string => (enc === 'ur' ? 'unrestricted' : 'restricted');

function checkIndex(what: string, n: number, count: number, text: string, fail: Fail): void {
  if (!Number.isInteger(n) || n < 0 || n >= count) fail(`operand ${text}: ${what} are numbered 0..${count - 1}`);
}

function encodeLm(op: Lm, enc: Encoding, field: FieldName | 'DST', fail: Fail, opts: EncodeOptions): EncodedOperand {
  const text = formatOperand(op);
  checkIndex('LM indexes', op.index, LM_INDEX_COUNT, text, fail);
  const lmHi = op.index >= 2;
  if (lmHi && !opts.lmExtn) fail(`operand ${text} cannot be encoded: this instruction has no LMEXTN bit for LM index ${op.index}`);
  const lo = op.index & 1;
  if (enc === 'ur') {
    if (op.post !== 'none') {
      if (op.off !== 0) fail(`operand ${text}: a post-modified LM operand has no offset`);
      return { code: UR.LM | (lo ? UR.LM_IDX : 0) | UR.LM_POST_MOD | (op.post === 'dec' ? UR.LM_POST_MOD_DEC : 0), i8: false, lmHi };
    }
    if (!Number.isInteger(op.off) || op.off < 0 || op.off > UR.LM_IDX_MAX) {
      fail(`operand ${text} does not fit ${where(field)}: LM offsets go up to ${UR.LM_IDX_MAX} in an unrestricted field`);
    }
    return { code: UR.LM | (lo ? UR.LM_IDX : 0) | op.off, i8: false, lmHi };
  }
  if (op.post !== 'none') fail(`operand ${text} does not fit ${where(field)}: restricted fields have no LM post-increment/decrement`);
  if (!Number.isInteger(op.off) || op.off < 0 || op.off > RE.LM_IDX_MAX) {
    fail(`operand ${text} does not fit ${where(field)}: LM offsets go up to ${RE.LM_IDX_MAX} in a restricted field`);
  }
  return { code: RE.LM | (lo ? RE.LM_IDX : 0) | op.off, i8: false, lmHi };
}

/** The code of a source operand in the A or B field. */
export function encodeSrc(op: Src, field: FieldName, enc: Encoding, fail: Fail, opts: EncodeOptions = {}): EncodedOperand {
  const text = formatOperand(op);
  switch (op.k) {
    case 'gpr': {
      const bank = field === 'A' ? 'a' : 'b';
      if (op.bank !== bank) fail(`operand ${text} cannot be in the ${field} field: a GPR there is in bank ${bank.toUpperCase()}`);
      checkIndex('GPRs', op.n, GPR_COUNT, text, fail);
      return { code: op.n, i8: false, lmHi: false };
    }
    case 'xfer':
      checkIndex('transfer registers', op.n, XFER_COUNT, text, fail);
      return { code: (enc === 'ur' ? UR.XFR : RE.XFR) | op.n, i8: false, lmHi: false };
    case 'lm':
      return encodeLm(op, enc, field, fail, opts);
    case 'imm': {
      const v = op.value;
      const max = enc === 'ur' || opts.i8 ? 0xff : RE.IMM_MAX;
      if (!Number.isInteger(v) || v < 0 || v > max) {
        fail(`operand ${text} does not fit the ${field} field: ${encName(enc)} immediates go up to ${formatNumber(max)}`);
      }
      if (enc === 'ur') return { code: UR.IMM | v, i8: false, lmHi: false };
      return { code: RE_REG_IMM_encode(v & 0x7f), i8: v > 0x7f, lmHi: false };
    }
  }
}

export interface EncodedDst {
  readonly code: number;
  /** DST_AB: the GPR is in bank B. */
  readonly dstAB: boolean;
  /** WR_AB: the GPR is written in both banks. */
  readonly wrAB: boolean;
  readonly lmHi: boolean;
}

/** The code of a destination in a DST field (bank by DST_AB / WR_AB). */
export function encodeDst(op: Dst, enc: Encoding, fail: Fail, opts: EncodeOptions = {}): EncodedDst {
  const text = formatOperand(op);
  switch (op.k) {
    case 'gpr':
      checkIndex('GPRs', op.n, GPR_COUNT, text, fail);
      return { code: op.n, dstAB: op.bank === 'b', wrAB: op.bank === 'ab', lmHi: false };
    case 'xfer':
      checkIndex('transfer registers', op.n, XFER_COUNT, text, fail);
      return { code: (enc === 'ur' ? UR.XFR : RE.XFR) | op.n, dstAB: false, wrAB: false, lmHi: false };
    case 'lm': {
      const e = encodeLm(op, enc, 'DST', fail, opts);
      return { code: e.code, dstAB: false, wrAB: false, lmHi: e.lmHi };
    }
    case 'none':
      return { code: enc === 'ur' ? UR.NO_DST : RE.NO_DST, dstAB: false, wrAB: false, lmHi: false };
  }
}

// ---- decoding ----

const hex = (v: number): string => `0x${v.toString(16)}`;

/** Whether a code holds an immediate (or "no destination") in a field of this encoding. */
export const isImmCode = (code: number, enc: Encoding): boolean =>
  enc === 'ur' ? (code & UR.IMM) === UR.IMM : (code & RE.IMM) !== 0;

type Decoded = Xfer | Lm | { readonly k: 'gpr'; readonly n: number } | Imm;

function decodeCode(code: number, enc: Encoding, lmHi: boolean, what: string, fail: Fail): Decoded {
  if (enc === 'ur') {
    if (code < GPR_COUNT) return { k: 'gpr', n: code };
    if (code >= UR.XFR && code < UR.XFR + XFER_COUNT) return { k: 'xfer', n: code - UR.XFR };
    if (code >= UR.LM && code < UR.LM + 0x40) {
      const index = ((code & UR.LM_IDX) ? 1 : 0) | (lmHi ? 2 : 0);
      if (code & UR.LM_POST_MOD) {
        if (code & 0x0e) fail(`${what} ${hex(code)} is not an operand: a post-modified LM code has only the decrement bit`);
        return { k: 'lm', index, off: 0, post: code & UR.LM_POST_MOD_DEC ? 'dec' : 'inc' };
      }
      return { k: 'lm', index, off: code & UR.LM_IDX_MAX, post: 'none' };
    }
    if ((code & UR.IMM) === UR.IMM) return { k: 'imm', value: code & 0xff };
    if (code >= UR.NN && code < UR.NN + 0x80) fail(`${what} ${hex(code)} is a next-neighbour register, not part of this machine`);
    return fail(`${what} ${hex(code)} is not an operand (unassigned unrestricted code)`);
  }
  if (code < GPR_COUNT) return { k: 'gpr', n: code };
  if (code & RE.IMM) return { k: 'imm', value: reImmDecode(code) };
  if (code >= RE.XFR && code < RE.XFR + XFER_COUNT) return { k: 'xfer', n: code - RE.XFR };
  if (code >= RE.LM && code < RE.LM + 0x10) {
    return { k: 'lm', index: ((code & RE.LM_IDX) ? 1 : 0) | (lmHi ? 2 : 0), off: code & RE.LM_IDX_MAX, post: 'none' };
  }
  return fail(`${what} ${hex(code)} is not an operand (unassigned restricted code)`);
}

/** The source operand an A or B field holds (a restricted immediate without its I8 bit). */
export function decodeSrc(code: number, field: FieldName, enc: Encoding, lmHi: boolean, fail: Fail): Src {
  const d = decodeCode(code, enc, lmHi, `${field} field code`, fail);
  return d.k === 'gpr' ? { k: 'gpr', bank: field === 'A' ? 'a' : 'b', n: d.n } : d;
}

/** The destination a DST field holds, its GPR bank from DST_AB and WR_AB. */
export function decodeDst(code: number, enc: Encoding, dstAB: boolean, wrAB: boolean, lmHi: boolean, fail: Fail): Dst {
  const noDst = enc === 'ur' ? UR.NO_DST : RE.NO_DST;
  let dst: Dst;
  if (code === noDst) dst = NO_DST;
  else {
    const d = decodeCode(code, enc, lmHi, 'destination code', fail);
    if (d.k === 'imm') return fail(`destination code ${hex(code)} is an immediate`);
    if (d.k === 'gpr') {
      if (dstAB && wrAB) fail('DST_AB and WR_AB are both set');
      dst = { k: 'gpr', bank: wrAB ? 'ab' : dstAB ? 'b' : 'a', n: d.n };
    } else dst = d;
  }
  if (dst.k !== 'gpr' && (dstAB || wrAB)) fail(`DST_AB/WR_AB set for a destination that is not a GPR (${formatOperand(dst)})`);
  if (lmHi && dst.k !== 'lm') fail(`DST_LMEXTN set for a destination that is not in local memory (${formatOperand(dst)})`);
  return dst;
}

export const isLm = (op: Src | Dst): op is Lm => op.k === 'lm';
export const lmHiOf = (op: Src | Dst): boolean => op.k === 'lm' && op.index >= 2;
