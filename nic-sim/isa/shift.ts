/**
 * The shifter's amount field (5 bits) shared by ALU_SHF and LD_FIELD. A left shift by
 * n is encoded as 32 - n (the kernel JIT's `__emit_shf` and `wrp_reg_or_subpart`); in
 * ALU_SHF a shifting class with amount field 0 is the indirect form (`emit_shf_indir`:
 * the amount comes from the previous ALU instruction at run time).
 */
import type { Fail } from './errors.js';
import type { ShiftAmount } from './instructions.js';
import type { ShiftClass } from './tables.js';

/** Field value of an ALU_SHF shift. */
export function encodeShfAmount(sc: ShiftClass, shift: ShiftAmount, fail: Fail): number {
  if (shift === 'indirect') {
    if (sc === 'rot') fail('a rotation has no indirect amount');
    return 0;
  }
  if (!Number.isInteger(shift)) fail(`shift amount ${String(shift)} is not an integer`);
  if (sc === 'rot') {
    if (shift < 0 || shift > 31) fail(`rotation ${shift} is out of range (0..31)`);
    return shift;
  }
  if (shift < 1 || shift > 31) fail(`shift amount ${shift} is out of range (1..31, or indirect)`);
  return sc === 'shl' ? 32 - shift : shift;
}

export function decodeShfAmount(sc: ShiftClass, field: number): ShiftAmount {
  if (sc === 'rot') return field;
  if (field === 0) return 'indirect';
  return sc === 'shl' ? 32 - field : field;
}

/** Field value of an LD_FIELD shift (0..31, no indirect form). */
export function encodeLdfAmount(sc: ShiftClass, shift: number, fail: Fail): number {
  if (!Number.isInteger(shift) || shift < 0 || shift > 31) fail(`shift amount ${shift} is out of range (0..31)`);
  return sc === 'shl' ? (32 - shift) & 31 : shift;
}

export const decodeLdfAmount = (sc: ShiftClass, field: number): number => (sc === 'shl' ? (32 - field) & 31 : field);
