/**
 * Branches: BR (condition codes), BR_BYTE (compare a byte with an immediate), BR_BIT
 * (test a bit), all with a 13+1-bit target (OP_BR_ADDR_LO + OP_BR_ADDR_HI, as
 * `__emit_br`) and a defer count; and BR_ALU, used only as `rtn[reg]`: branch to the
 * address in a register, the other field holding the immediate 0 (`emit_rtn`).
 */
import {
  checkRange, codeOf, decodePair, encodePair, nameOf, placeRegImm, placer, splitRegImm, type Codec,
} from './codec-common.js';
import type { Fail } from './errors.js';
import { BR, BR_ALU, BR_BIT, BR_BYTE, getField, getFlag } from './fields.js';
import { BR_CONDS, BR_CSS_NONE, BR_EV_PIP, MAX_DEFER, MAX_DEFER_UNCOND, MAX_TARGET } from './tables.js';

const LO_BITS = 13;
const LO_MASK = (1 << LO_BITS) - 1;

function putTarget(target: number, defer: number, maxDefer: number, fail: Fail): bigint {
  checkRange('branch target', target, 0, MAX_TARGET, fail);
  checkRange('defer', defer, 0, maxDefer, fail);
  const put = placer(fail);
  return (
    put(BR.fields.addrLo, target & LO_MASK, 'ADDR_LO') | put(BR.fields.addrHi, target >> LO_BITS, 'ADDR_HI') |
    put(BR.fields.defer, defer, 'DEFBR')
  );
}

const getTarget = (w: bigint): number => (getField(w, BR.fields.addrHi) << LO_BITS) | getField(w, BR.fields.addrLo);

export const brCodec: Codec<'br'> = {
  encode(i, fail) {
    const put = placer(fail);
    const cond = codeOf(BR_CONDS, i.cond, 'branch condition', fail);
    const evPip = i.cond === 'always' ? BR_EV_PIP.uncond : BR_EV_PIP.cond;
    return (
      BR.ident.value | put(BR.fields.cond, cond, 'condition') | put(BR.fields.evPip, evPip, 'EV_PIP') |
      put(BR.fields.css, BR_CSS_NONE, 'CSS') |
      putTarget(i.target, i.defer, i.cond === 'always' ? MAX_DEFER_UNCOND : MAX_DEFER, fail)
    );
  },
  decode(w, fail) {
    const cond = nameOf(BR_CONDS, getField(w, BR.fields.cond), 'branch condition', fail);
    const evPip = getField(w, BR.fields.evPip);
    const want = cond === 'always' ? BR_EV_PIP.uncond : BR_EV_PIP.cond;
    if (evPip !== want) fail(`EV_PIP ${evPip} for a${cond === 'always' ? 'n un' : ' '}conditional branch (must be ${want})`);
    const css = getField(w, BR.fields.css);
    if (css !== BR_CSS_NONE) fail(`CSS ${css}: context-signal-state branches are not part of this project (CSS must be ${BR_CSS_NONE})`);
    const defer = getField(w, BR.fields.defer);
    if (cond === 'always' && defer > MAX_DEFER_UNCOND) fail(`defer ${defer} after an unconditional branch (at most ${MAX_DEFER_UNCOND})`);
    return { cls: 'br', cond, target: getTarget(w), defer };
  },
};

export const brByteCodec: Codec<'br_byte'> = {
  encode(i, fail) {
    const put = placer(fail);
    checkRange('byte', i.byte, 0, 3, fail);
    checkRange('compare value', i.value, 0, 0xff, fail);
    const [a, b] = placeRegImm(i.src, i.value, 'br=byte', fail);
    const src = encodePair(a, b, 're', fail, { i8: true, lmExtn: true });
    return (
      BR_BYTE.ident.value | put(BR_BYTE.fields.aSrc, src.a, 'A') | put(BR_BYTE.fields.byte, i.byte, 'BYTE') |
      put(BR_BYTE.fields.bSrc, src.b, 'B') | put(BR_BYTE.fields.i8, src.i8, 'I8') | put(BR_BYTE.fields.eq, i.equal, 'EQ') |
      put(BR_BYTE.fields.srcLmExtn, src.srcLmHi, 'SRC_LMEXTN') | putTarget(i.target, i.defer, MAX_DEFER, fail)
    );
  },
  decode(w, fail) {
    const [a, b] = decodePair(w, BR_BYTE.fields, 're', fail);
    const { reg, value } = splitRegImm(a, b, 'BR_BYTE', fail);
    return {
      cls: 'br_byte', equal: getFlag(w, BR_BYTE.fields.eq), src: reg, byte: getField(w, BR_BYTE.fields.byte), value,
      target: getTarget(w), defer: getField(w, BR.fields.defer),
    };
  },
};

/** The bit to test is given as a right rotation that brings it to bit 31: bit + 1 (`emit_br_bit_relo`). */
export const brBitCodec: Codec<'br_bit'> = {
  encode(i, fail) {
    const put = placer(fail);
    checkRange('bit', i.bit, 0, 31, fail);
    const [a, b] = placeRegImm(i.src, i.bit + 1, 'br_bset/br_bclr', fail);
    const src = encodePair(a, b, 're', fail, { lmExtn: true });
    return (
      BR_BIT.ident.value | put(BR_BIT.fields.aSrc, src.a, 'A') | put(BR_BIT.fields.bSrc, src.b, 'B') |
      put(BR_BIT.fields.bv, i.set, 'BV') | put(BR_BIT.fields.srcLmExtn, src.srcLmHi, 'SRC_LMEXTN') |
      putTarget(i.target, i.defer, MAX_DEFER, fail)
    );
  },
  decode(w, fail) {
    const [a, b] = decodePair(w, BR_BIT.fields, 're', fail);
    const { reg, value } = splitRegImm(a, b, 'BR_BIT', fail);
    if (value < 1 || value > 32) fail(`BR_BIT rotation ${value} does not name a bit (1..32 for bits 0..31)`);
    return {
      cls: 'br_bit', set: getFlag(w, BR_BIT.fields.bv), src: reg, bit: value - 1, target: getTarget(w),
      defer: getField(w, BR.fields.defer),
    };
  },
};

export const brAluCodec: Codec<'br_alu'> = {
  encode(i, fail) {
    const put = placer(fail);
    checkRange('defer', i.defer, 0, MAX_DEFER, fail);
    const [a, b] = placeRegImm(i.src, 0, 'rtn', fail);
    const src = encodePair(a, b, 'ur', fail, { lmExtn: true });
    return (
      BR_ALU.ident.value | put(BR_ALU.fields.aSrc, src.a, 'A') | put(BR_ALU.fields.bSrc, src.b, 'B') |
      put(BR_ALU.fields.defer, i.defer, 'DEFBR') | put(BR_ALU.fields.srcLmExtn, src.srcLmHi, 'SRC_LMEXTN')
    );
  },
  decode(w, fail) {
    const [a, b] = decodePair(w, BR_ALU.fields, 'ur', fail);
    const { reg, value } = splitRegImm(a, b, 'BR_ALU', fail);
    const hi = getField(w, BR_ALU.fields.immHi);
    if (value !== 0 || hi !== 0) fail(`BR_ALU immediate ${(hi << 8) | value}: this project's rtn takes the immediate 0`);
    if (getFlag(w, BR_ALU.fields.dstLmExtn)) fail('BR_ALU has no destination but DST_LMEXTN is set');
    return { cls: 'br_alu', src: reg, defer: getField(w, BR_ALU.fields.defer) };
  },
};
