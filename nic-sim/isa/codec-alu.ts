/** ALU (nfp_asm.h OP_ALU_*): unrestricted A, B and DST fields, SW, a 5-bit operation. */
import { codeOf, decodePair, encodePair, nameOf, placer, type Codec } from './codec-common.js';
import { ALU, getField, getFlag } from './fields.js';
import { decodeDst, encodeDst } from './operands.js';
import { ALU_OPS } from './tables.js';

const f = ALU.fields;

export const aluCodec: Codec<'alu'> = {
  encode(i, fail) {
    const put = placer(fail);
    const op = codeOf(ALU_OPS, i.op, 'ALU operation', fail);
    const src = encodePair(i.a, i.b, 'ur', fail, { lmExtn: true });
    const d = encodeDst(i.dst, 'ur', fail, { lmExtn: true });
    return (
      ALU.ident.value | put(f.aSrc, src.a, 'A') | put(f.bSrc, src.b, 'B') | put(f.dst, d.code, 'DST') |
      put(f.sw, i.swap, 'SW') | put(f.op, op, 'OP') | put(f.dstAB, d.dstAB, 'DST_AB') | put(f.wrAB, d.wrAB, 'WR_AB') |
      put(f.srcLmExtn, src.srcLmHi, 'SRC_LMEXTN') | put(f.dstLmExtn, d.lmHi, 'DST_LMEXTN')
    );
  },
  decode(w, fail) {
    const op = nameOf(ALU_OPS, getField(w, f.op), 'ALU operation', fail);
    const [a, b] = decodePair(w, f, 'ur', fail);
    const dst = decodeDst(getField(w, f.dst), 'ur', getFlag(w, f.dstAB), getFlag(w, f.wrAB), getFlag(w, f.dstLmExtn), fail);
    return { cls: 'alu', op, dst, a, b, swap: getFlag(w, f.sw) };
  },
};
