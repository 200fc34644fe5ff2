/**
 * The shifter shared by `alu_shf` and `ld_field` (docs/nic-isa.md "alu_shf",
 * "ld_field"): rotate right, logical right (arithmetic with ASHR), left, and the
 * double shift of (l:r). Amounts are already resolved (direct or indirect).
 */
import type { ShiftClass } from '../isa/tables.js';

export const rotr = (r: number, n: number): number => (n === 0 ? r >>> 0 : ((r >>> n) | (r << (32 - n))) >>> 0);

/** Shifts r (and l for the double shift) by n: 0..31, or 0..32 for dshr. `fill` is the ASHR sign bit. */
export function shift(sc: ShiftClass, l: number, r: number, n: number, fill: boolean): number {
  switch (sc) {
    case 'rot':
      return rotr(r, n & 31);
    case 'shr':
      if (n === 0) return r >>> 0;
      return (fill ? (r >>> n) | (~0 << (32 - n)) : r >>> n) >>> 0;
    case 'shl':
      return n === 0 ? r >>> 0 : (r << n) >>> 0;
    case 'dshr':
      if (n === 0) return r >>> 0;
      if (n === 32) return l >>> 0;
      return ((l << (32 - n)) | (r >>> n)) >>> 0;
  }
}
