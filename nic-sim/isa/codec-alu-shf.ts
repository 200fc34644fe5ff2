/** ALU_SHF (nfp_asm.h OP_SHF_*): restricted A, B and DST fields with I8, a shift class and amount, a 3-bit operation. */
import { codeOf, decodePair, encodePair, nameOf, placer, type Codec } from './codec-common.js';
import { ALU_SHF, getField, getFlag } from './fields.js';
import { decodeDst, encodeDst } from './operands.js';
import { decodeShfAmount, encodeShfAmount } from './shift.js';
import { SHF_OPS, SHIFT_CLASSES } from './tables.js';

const f = ALU_SHF.fields;

export const aluShfCodec: Codec<'alu_shf'> = {
  encode(i, fail) {
    const put = placer(fail);
    const op = codeOf(SHF_OPS, i.op, 'ALU_SHF operation', fail);
    const sc = codeOf(SHIFT_CLASSES, i.sc, 'shift class', fail);
    if (i.op === 'ashr' && i.sc !== 'shr') fail(`ASHR shifts right: its shift class must be shr, not ${i.sc}`);
    const amount = encodeShfAmount(i.sc, i.shift, fail);
    const src = encodePair(i.a, i.b, 're', fail, { i8: true, lmExtn: true });
    const d = encodeDst(i.dst, 're', fail, { lmExtn: true });
    return (
      ALU_SHF.ident.value | put(f.aSrc, src.a, 'A') | put(f.sc, sc, 'SC') | put(f.bSrc, src.b, 'B') |
      put(f.i8, src.i8, 'I8') | put(f.sw, i.swap, 'SW') | put(f.dst, d.code, 'DST') | put(f.shift, amount, 'SHIFT') |
      put(f.op, op, 'OP') | put(f.dstAB, d.dstAB, 'DST_AB') | put(f.wrAB, d.wrAB, 'WR_AB') |
      put(f.srcLmExtn, src.srcLmHi, 'SRC_LMEXTN') | put(f.dstLmExtn, d.lmHi, 'DST_LMEXTN')
    );
  },
  decode(w, fail) {
    const op = nameOf(SHF_OPS, getField(w, f.op), 'ALU_SHF operation', fail);
    const sc = nameOf(SHIFT_CLASSES, getField(w, f.sc), 'shift class', fail);
    if (op === 'ashr' && sc !== 'shr') fail(`ASHR with shift class ${sc} (this project defines ASHR with shr only)`);
    const [a, b] = decodePair(w, f, 're', fail);
    const dst = decodeDst(getField(w, f.dst), 're', getFlag(w, f.dstAB), getFlag(w, f.wrAB), getFlag(w, f.dstLmExtn), fail);
    return { cls: 'alu_shf', op, dst, a, b, swap: getFlag(w, f.sw), sc, shift: decodeShfAmount(sc, getField(w, f.shift)) };
  },
};
