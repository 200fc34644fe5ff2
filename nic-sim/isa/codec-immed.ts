/**
 * IMMED (nfp_asm.h OP_IMMED_*): a 16-bit value, its low byte as an unrestricted
 * immediate in one of A/B and its high byte in IMM; the destination in the other field.
 * Placement (the kernel JIT's `emit_immed`): a bank-B GPR destination goes in B with
 * the low byte in A; every other destination (bank A, both banks, transfer, LM, none)
 * goes in A with the low byte in B. WR_AB writes both banks; an LM destination sets
 * both LMEXTN bits, as `emit_immed` does.
 */
import { checkRange, codeOf, hex, nameOf, placer, type Codec } from './codec-common.js';
import { IMMED, getField, getFlag } from './fields.js';
import { decodeDst, encodeDst, isImmCode, lmHiOf, UR } from './operands.js';
import { IMMED_MAX_SHIFT, IMMED_WIDTHS } from './tables.js';

const f = IMMED.fields;

export const immedCodec: Codec<'immed'> = {
  encode(i, fail) {
    const put = placer(fail);
    const width = codeOf(IMMED_WIDTHS, i.width, 'IMMED width', fail);
    checkRange('IMMED value', i.value, 0, i.width === 'byte' ? 0xff : 0xffff, fail);
    checkRange('IMMED byte shift', i.shift, 0, IMMED_MAX_SHIFT, fail);
    const low = UR.IMM | (i.value & 0xff);
    let a: number;
    let b: number;
    let wrAB = false;
    const lmHi = lmHiOf(i.dst);
    if (i.dst.k === 'gpr' && i.dst.bank === 'b') {
      a = low;
      b = encodeDst(i.dst, 'ur', fail).code;
    } else {
      const d = encodeDst(i.dst, 'ur', fail, { lmExtn: true });
      a = d.code;
      b = low;
      wrAB = d.wrAB;
    }
    return (
      IMMED.ident.value | put(f.aSrc, a, 'A') | put(f.bSrc, b, 'B') | put(f.imm, i.value >> 8, 'IMM') |
      put(f.width, width, 'WIDTH') | put(f.inv, i.invert, 'INV') | put(f.shift, i.shift, 'SHIFT') |
      put(f.wrAB, wrAB, 'WR_AB') | put(f.srcLmExtn, lmHi, 'SRC_LMEXTN') | put(f.dstLmExtn, lmHi, 'DST_LMEXTN')
    );
  },
  decode(w, fail) {
    const width = nameOf(IMMED_WIDTHS, getField(w, f.width), 'IMMED width', fail);
    const shift = getField(w, f.shift);
    if (shift > IMMED_MAX_SHIFT) fail(`IMMED byte shift ${shift} is not assigned`);
    const a = getField(w, f.aSrc);
    const b = getField(w, f.bSrc);
    const wrAB = getFlag(w, f.wrAB);
    const dstLm = getFlag(w, f.dstLmExtn);
    let low: number;
    let dst;
    if (isImmCode(b, 'ur')) {
      low = b & 0xff;
      dst = decodeDst(a, 'ur', false, wrAB, dstLm, fail);
    } else if (isImmCode(a, 'ur')) {
      low = a & 0xff;
      if (b >= 0x20) fail(`IMMED with the value in A needs a bank-B GPR in B, not code ${hex(b)} (this project's placement)`);
      if (wrAB || dstLm) fail('IMMED with a bank-B destination has WR_AB or DST_LMEXTN set');
      dst = decodeDst(b, 'ur', true, false, false, fail);
    } else return fail('IMMED: neither A nor B holds the immediate');
    if (getFlag(w, f.srcLmExtn) !== lmHiOf(dst)) fail('IMMED: SRC_LMEXTN must equal DST_LMEXTN (set only for LM index 2, 3)');
    const hi = getField(w, f.imm);
    if (width === 'byte' && hi !== 0) fail(`IMMED byte write with high byte ${hex(hi)} (must be 0)`);
    return { cls: 'immed', dst, value: (hi << 8) | low, width, invert: getFlag(w, f.inv), shift };
  },
};
