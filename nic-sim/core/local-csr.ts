/**
 * `local_csr_wr` / `local_csr_rd` (docs/nic-isa.md "local_csr_wr / local_csr_rd").
 * A write of ACT_LM_ADDRn sets pointer n to v & 0xffc, usable from the fourth
 * instruction after the write (operands.ts refuses earlier uses). A read latches the
 * CSR's value for the next instruction, which must be `immed[dst, 0]` (run.ts checks,
 * immed.ts writes it). PSEUDO_RND_NUM is an xorshift32 generator seeded per state, or the
 * state's `random` source when one is given.
 */
import type { LocalCsrInsn } from '../isa/instructions.js';
import { CSR_LM_INDEX, CSR_WRITABLE, LM_ADDR_WRITE_LATENCY, type CsrName } from '../isa/tables.js';
import type { Exec } from './context.js';
import { readSrc } from './operands.js';
import type { CoreState } from './state.js';

/** The next value of the PSEUDO_RND_NUM generator (xorshift32). */
export function nextRandom(s: CoreState): number {
  if (s.random) return s.random() >>> 0;
  let v = s.rng;
  v ^= v << 13;
  v ^= v >>> 17;
  v ^= v << 5;
  s.rng = v >>> 0;
  return s.rng;
}

function readCsr(s: CoreState, csr: CsrName): number {
  const lm = CSR_LM_INDEX[csr];
  return lm !== undefined ? (s.lmAddr[lm] as number) : nextRandom(s);
}

export function execLocalCsr(x: Exec, i: LocalCsrInsn): void {
  if (!i.write) {
    x.s.csrRead = readCsr(x.s, i.csr);
    return;
  }
  const lm = CSR_LM_INDEX[i.csr];
  if (!CSR_WRITABLE[i.csr] || lm === undefined) x.fail('refused', `${i.csr} is read-only`);
  x.s.lmAddr[lm] = readSrc(x, i.src) & 0xffc;
  // The writer itself counts down once more at the end of this instruction (run.ts).
  x.s.lmDelay[lm] = LM_ADDR_WRITE_LATENCY + 1;
}
