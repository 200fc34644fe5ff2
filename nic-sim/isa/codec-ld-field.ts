/**
 * LD_FIELD (nfp_asm.h OP_LDF_*): no DST field — the destination is the logical left
 * operand, read and written in place (`emit_ld_field_any`: "uses one of the src regs
 * as dst"). Restricted A and B with I8, byte mask, ZF, shift class and amount.
 */
import { checkRange, codeOf, decodePair, encodePair, nameOf, placer, type Codec } from './codec-common.js';
import { LD_FIELD, getField, getFlag } from './fields.js';
import { logicalOperands } from './instructions.js';
import { formatOperand, lmHiOf } from './operands.js';
import { decodeLdfAmount, encodeLdfAmount } from './shift.js';
import { SHIFT_CLASSES } from './tables.js';

const f = LD_FIELD.fields;

export const ldFieldCodec: Codec<'ld_field'> = {
  encode(i, fail) {
    const put = placer(fail);
    if ((i.sc as string) === 'dshr') fail('LD_FIELD has no double shift');
    const sc = codeOf(SHIFT_CLASSES, i.sc, 'shift class', fail);
    checkRange('byte mask', i.byteMask, 0, 15, fail);
    const [dst] = logicalOperands(i);
    if (dst.k === 'imm') fail(`the destination of ld_field cannot be the immediate ${formatOperand(dst)}`);
    if (i.wrBoth && dst.k !== 'gpr') fail(`WR_AB writes a GPR in both banks; the destination is ${formatOperand(dst)}`);
    const src = encodePair(i.a, i.b, 're', fail, { i8: true, lmExtn: true });
    return (
      LD_FIELD.ident.value | put(f.aSrc, src.a, 'A') | put(f.sc, sc, 'SC') | put(f.bSrc, src.b, 'B') |
      put(f.i8, src.i8, 'I8') | put(f.sw, i.swap, 'SW') | put(f.zf, i.zero, 'ZF') | put(f.bmask, i.byteMask, 'BMASK') |
      put(f.shift, encodeLdfAmount(i.sc, i.shift, fail), 'SHF') | put(f.wrAB, i.wrBoth, 'WR_AB') |
      put(f.srcLmExtn, src.srcLmHi, 'SRC_LMEXTN') | put(f.dstLmExtn, lmHiOf(dst), 'DST_LMEXTN')
    );
  },
  decode(w, fail) {
    const sc = nameOf(SHIFT_CLASSES, getField(w, f.sc), 'shift class', fail);
    if (sc === 'dshr') return fail('LD_FIELD with shift class dshr (this project defines no double shift for ld_field)');
    const [a, b] = decodePair(w, f, 're', fail);
    const swap = getFlag(w, f.sw);
    const [dst] = logicalOperands({ a, b, swap });
    if (dst.k === 'imm') fail('the destination (left operand) of LD_FIELD is an immediate');
    const wrBoth = getFlag(w, f.wrAB);
    if (wrBoth && dst.k !== 'gpr') fail(`WR_AB is set but the destination is ${formatOperand(dst)}`);
    if (getFlag(w, f.dstLmExtn) !== lmHiOf(dst)) fail('DST_LMEXTN does not match the destination');
    return {
      cls: 'ld_field', a, b, swap, wrBoth, byteMask: getField(w, f.bmask), zero: getFlag(w, f.zf), sc,
      shift: decodeLdfAmount(sc, getField(w, f.shift)),
    };
  },
};
