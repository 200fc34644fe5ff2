/**
 * MUL (nfp_asm.h OP_MUL_*, enum mul_type, enum mul_step): a multiply in steps, as the
 * kernel JIT's `wrp_mul_u32`/`wrp_mul_u16` emit it — start, one step per byte of the
 * right operand, then last (low word) and last2 (high word). In a last step the A field
 * holds the destination and B is unused (0); otherwise A and B are the operands.
 */
import { codeOf, decodePair, encodePair, hex, nameOf, placer, type Codec } from './codec-common.js';
import { MUL, getField, getFlag } from './fields.js';
import { isMulLast } from './instructions.js';
import { decodeDst, encodeDst } from './operands.js';
import { MUL_STEP_LAST, MUL_STEP_LAST2, MUL_STEPS, MUL_TYPES, type MulSize } from './tables.js';

const f = MUL.fields;

export const mulCodec: Codec<'mul'> = {
  encode(i, fail) {
    const put = placer(fail);
    const base = MUL.ident.value;
    if (isMulLast(i)) {
      const type = codeOf(MUL_TYPES, i.size, 'multiply size', fail);
      if (type === MUL_TYPES.code.start) fail('a last step needs a multiply size');
      if (i.step === 'last2' && i.size !== '32x32') fail(`last2 (the high word) is for 32x32 products, not ${i.size}`);
      const d = encodeDst(i.dst, 'ur', fail, { lmExtn: true });
      return (
        base | put(f.aSrc, d.code, 'A') | put(f.step, i.step === 'last' ? MUL_STEP_LAST : MUL_STEP_LAST2, 'STEP') |
        put(f.dstAB, d.dstAB, 'DST_AB') | put(f.type, type, 'TYPE') | put(f.wrAB, d.wrAB, 'WR_AB') |
        put(f.dstLmExtn, d.lmHi, 'DST_LMEXTN')
      );
    }
    let type = MUL_TYPES.code.start;
    let step = 0;
    if (i.step !== 'start') {
      type = codeOf(MUL_TYPES, i.size, 'multiply size', fail);
      if (type === MUL_TYPES.code.start) fail('a multiply step needs a size');
      const steps = MUL_STEPS[i.size];
      if (!Number.isInteger(i.step) || i.step < 1 || i.step > steps) fail(`a ${i.size} multiply has steps 1..${steps}, not ${i.step}`);
      step = i.step - 1;
    }
    const src = encodePair(i.a, i.b, 'ur', fail, { lmExtn: true });
    return (
      base | put(f.aSrc, src.a, 'A') | put(f.bSrc, src.b, 'B') | put(f.step, step, 'STEP') | put(f.sw, i.swap, 'SW') |
      put(f.type, type, 'TYPE') | put(f.srcLmExtn, src.srcLmHi, 'SRC_LMEXTN')
    );
  },
  decode(w, fail) {
    const typeName = nameOf(MUL_TYPES, getField(w, f.type), 'multiply type', fail);
    const step = getField(w, f.step);
    const dstAB = getFlag(w, f.dstAB);
    const wrAB = getFlag(w, f.wrAB);
    const dstLm = getFlag(w, f.dstLmExtn);
    if (step === MUL_STEP_LAST || step === MUL_STEP_LAST2) {
      if (typeName === 'start') return fail('a last step with multiply type START');
      const size: MulSize = typeName;
      if (step === MUL_STEP_LAST2 && size !== '32x32') fail(`last2 with a ${size} multiply (32x32 only)`);
      const b = getField(w, f.bSrc);
      if (b !== 0 || getFlag(w, f.sw) || getFlag(w, f.srcLmExtn)) fail(`a last step has B = 0, no SW and no SRC_LMEXTN (B ${hex(b)})`);
      const dst = decodeDst(getField(w, f.aSrc), 'ur', dstAB, wrAB, dstLm, fail);
      return { cls: 'mul', step: step === MUL_STEP_LAST ? 'last' : 'last2', size, dst };
    }
    if (dstAB || wrAB || dstLm) fail('DST_AB, WR_AB or DST_LMEXTN set in a multiply step without a destination');
    const [a, b] = decodePair(w, f, 'ur', fail);
    const swap = getFlag(w, f.sw);
    if (typeName === 'start') {
      if (step !== 0) fail(`multiply START with step code ${step} (must be 0)`);
      return { cls: 'mul', step: 'start', a, b, swap };
    }
    if (step >= MUL_STEPS[typeName]) fail(`step code ${step} with a ${typeName} multiply (steps 1..${MUL_STEPS[typeName]})`);
    return { cls: 'mul', step: (step + 1) as 1 | 2 | 3 | 4, size: typeName, a, b, swap };
  },
};
