/**
 * LOCAL_CSR (nfp_asm.h OP_LCSR_*): ADDR holds the CSR's byte address / 4 (`__emit_lcsr`).
 * A write takes its value from the register in A (or a bank-B GPR in B) with the
 * immediate 0 in the other field, or an immediate copied into both fields
 * (`emit_csr_wr`); a read has A = B = 0 (`__emit_csr_rd`) and delivers the value to the
 * next instruction, an `immed[dst, 0]`.
 */
import { codeOf, decodePair, encodePair, hex, nameOf, placeRegImm, placer, splitRegImm, type Codec } from './codec-common.js';
import { LOCAL_CSR, getField, getFlag } from './fields.js';
import type { Src } from './operands.js';
import { CSR_WRITABLE, CSRS } from './tables.js';

const f = LOCAL_CSR.fields;

export const localCsrCodec: Codec<'local_csr'> = {
  encode(i, fail) {
    const put = placer(fail);
    const addr = codeOf(CSRS, i.csr, 'CSR', fail) / 4;
    let a = 0;
    let b = 0;
    let lmHi = false;
    if (i.write) {
      if (!CSR_WRITABLE[i.csr]) fail(`CSR ${i.csr} is read-only`);
      let pair: [Src, Src];
      if (i.src.k === 'imm') pair = [i.src, i.src];
      else pair = placeRegImm(i.src, 0, 'local_csr_wr', fail);
      const e = encodePair(pair[0], pair[1], 'ur', fail, { lmExtn: true });
      a = e.a;
      b = e.b;
      lmHi = e.srcLmHi;
    }
    return (
      LOCAL_CSR.ident.value | put(f.aSrc, a, 'A') | put(f.bSrc, b, 'B') | put(f.write, i.write, 'WRITE') |
      put(f.addr, addr, 'ADDR') | put(f.srcLmExtn, lmHi, 'SRC_LMEXTN')
    );
  },
  decode(w, fail) {
    const csr = nameOf(CSRS, getField(w, f.addr) * 4, 'CSR address', fail);
    if (getFlag(w, f.dstLmExtn)) fail('LOCAL_CSR has no destination but DST_LMEXTN is set');
    if (!getFlag(w, f.write)) {
      const a = getField(w, f.aSrc);
      const b = getField(w, f.bSrc);
      if (a !== 0 || b !== 0 || getFlag(w, f.srcLmExtn)) {
        fail(`a CSR read has A = B = 0 and no LMEXTN (A ${hex(a)}, B ${hex(b)})`);
      }
      return { cls: 'local_csr', write: false, csr };
    }
    if (!CSR_WRITABLE[csr]) fail(`CSR ${csr} is read-only`);
    const [a, b] = decodePair(w, f, 'ur', fail);
    if (a.k === 'imm' && b.k === 'imm') {
      if (a.value !== b.value) fail(`a CSR write of an immediate repeats it in A and B (${a.value} vs ${b.value})`);
      return { cls: 'local_csr', write: true, csr, src: a };
    }
    const { reg, value } = splitRegImm(a, b, 'LOCAL_CSR', fail);
    if (value !== 0) fail(`a CSR write of a register has the immediate 0 in the other field, not ${value}`);
    return { cls: 'local_csr', write: true, csr, src: reg };
  },
};
