/**
 * `immed` / `immed_w` / `immed_b` (docs/nic-isa.md "immed"): v << 8·shift (inverted
 * with INV), or merged as a word or byte into the destination's current value (each
 * bank its own for a both-banks destination). The result becomes `prevResult`
 * (executor decision for a both-banks merge: bank A's result). After a
 * `local_csr_rd` the instruction writes the CSR value instead (local-csr.ts checks it).
 */
import type { ImmedInsn } from '../isa/instructions.js';
import type { Exec } from './context.js';
import { readDstOld, writeDst } from './operands.js';

function merged(i: ImmedInsn, old: number): number {
  const s = 8 * i.shift;
  if (i.width === 'all') return ((i.invert ? ~(i.value << s) : i.value << s) >>> 0);
  const field = i.width === 'word' ? 0xffff : 0xff;
  const v = i.invert ? ~i.value & field : i.value & field;
  return ((old & ~(field << s)) | (v << s)) >>> 0;
}

export function execImmed(x: Exec, i: ImmedInsn): void {
  const csr = x.s.csrRead;
  if (csr !== undefined) {
    x.s.csrRead = undefined;
    x.s.prevResult = csr;
    writeDst(x, i.dst, csr);
    return;
  }
  if (i.width !== 'all' && i.dst.k === 'gpr' && i.dst.bank === 'ab') {
    const ra = merged(i, readDstOld(x, i.dst, 'a'));
    const rb = merged(i, readDstOld(x, i.dst, 'b'));
    x.s.gprA[i.dst.n] = ra;
    x.s.gprB[i.dst.n] = rb;
    x.s.prevResult = ra;
    return;
  }
  const result = merged(i, i.width === 'all' ? 0 : readDstOld(x, i.dst, 'a'));
  x.s.prevResult = result;
  writeDst(x, i.dst, result);
}
