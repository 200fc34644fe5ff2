/**
 * `ld_field` / `ld_field_w_clr` (docs/nic-isa.md "ld_field"): the bytes of shift(r)
 * selected by the byte mask replace those of the destination, which is the logical
 * left operand l; the others keep l's byte, or become 0 with ZF. The destination is
 * written in place (both banks with WR_AB; a transfer register is read from
 * transfer-in and written to transfer-out). Codes and previous-ALU state unchanged.
 */
import type { LdFieldInsn } from '../isa/instructions.js';
import { logicalOperands } from '../isa/instructions.js';
import type { Dst, Src } from '../isa/operands.js';
import type { Exec } from './context.js';
import { readSrc, writeDst } from './operands.js';
import { shift } from './shifter.js';

/** Byte mask (bit i = byte i) → 32-bit mask. */
export const byteMaskBits = (m: number): number =>
  ((m & 1 ? 0xff : 0) | (m & 2 ? 0xff00 : 0) | (m & 4 ? 0xff0000 : 0) | (m & 8 ? 0xff000000 : 0)) >>> 0;

/** The destination l names, as a destination (an immediate is refused by the decoder). */
function asDst(x: Exec, l: Src, both: boolean): Dst {
  if (l.k === 'imm') return x.fail('refused', 'ld_field destination is an immediate');
  if (l.k === 'gpr' && both) return { k: 'gpr', bank: 'ab', n: l.n };
  return l;
}

export function execLdField(x: Exec, i: LdFieldInsn): void {
  const [lo, ro] = logicalOperands(i);
  const l = readSrc(x, lo);
  const r = readSrc(x, ro);
  const mask = byteMaskBits(i.byteMask);
  const shifted = shift(i.sc, 0, r, i.shift, false);
  const result = (shifted & mask) | (i.zero ? 0 : l & ~mask);
  writeDst(x, asDst(x, lo, i.wrBoth), result);
}
