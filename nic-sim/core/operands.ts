/**
 * Reading sources and writing destinations (docs/nic-isa.md "Semantics", notation):
 * a GPR in its bank (a destination in both banks with WR_AB), `$xfer_n` from
 * transfer-in as a source and to transfer-out as a destination, LM through its
 * pointer, an immediate as its value, "none" discarded.
 *
 * LM operand `*l$indexN[off]` is the word at `(ACT_LM_ADDRn & 0xffc) | off*4`;
 * `*l$indexN++`/`--` the word at the pointer, which moves by ±4 (mod 4096) after the
 * instruction. Executor decisions: a pointer moves at most once per instruction even
 * when two operands post-modify it, and ++ with -- on one pointer is refused. Using a
 * pointer within three instructions of its `local_csr_wr` is a hazard error.
 */
import type { Dst, Src } from '../isa/operands.js';
import { LM_BYTES } from '../isa/tables.js';
import type { Exec } from './context.js';
import { checkRange, getWord, putWord } from './memory.js';

/** Byte address in LM of an LM operand (checking the pointer's write delay, recording a post-modification). */
function lmAddress(x: Exec, index: number, off: number, post: 'none' | 'inc' | 'dec'): number {
  const delay = x.s.lmDelay[index] as number;
  if (delay > 0) {
    x.fail('hazard', `LM pointer ${index} is used ${4 - delay} instruction(s) after local_csr_wr[ACT_LM_ADDR${index}]; the new value is usable from the fourth`);
  }
  const base = (x.s.lmAddr[index] as number) & 0xffc;
  if (post === 'none') return base | (off * 4);
  const step = post === 'inc' ? 4 : -4;
  const prior = x.postMods[index]!;
  if (prior !== 0 && prior !== step) x.fail('refused', `LM pointer ${index} is both incremented and decremented`);
  x.postMods[index] = step;
  x.hasPostMods = true;
  return base;
}

function lmWordAt(x: Exec, index: number, off: number, post: 'none' | 'inc' | 'dec'): number {
  const addr = lmAddress(x, index, off, post);
  checkRange(x, 'local memory', addr, 4, x.s.lm.length);
  return addr;
}

export function readSrc(x: Exec, op: Src): number {
  switch (op.k) {
    case 'gpr':
      return (op.bank === 'a' ? x.s.gprA : x.s.gprB)[op.n] as number;
    case 'xfer':
      return x.s.xferIn[op.n] as number;
    case 'lm':
      return getWord(x.s.lm, lmWordAt(x, op.index, op.off, op.post), true);
    case 'imm':
      return op.value;
  }
}

export function writeDst(x: Exec, op: Dst, v: number): void {
  const u = v >>> 0;
  switch (op.k) {
    case 'gpr':
      if (op.bank !== 'b') x.s.gprA[op.n] = u;
      if (op.bank !== 'a') x.s.gprB[op.n] = u;
      return;
    case 'xfer':
      x.s.xferOut[op.n] = u;
      return;
    case 'lm':
      putWord(x.s.lm, lmWordAt(x, op.index, op.off, op.post), u, true);
      return;
    case 'none':
      return;
  }
}

/**
 * A destination's current value, for the instructions that merge into it (immed_w,
 * immed_b): a GPR's bank ('ab': the bank given), transfer-out, the LM word, 0 for none.
 */
export function readDstOld(x: Exec, op: Dst, bank: 'a' | 'b'): number {
  switch (op.k) {
    case 'gpr':
      return ((op.bank === 'ab' ? bank : op.bank) === 'a' ? x.s.gprA : x.s.gprB)[op.n] as number;
    case 'xfer':
      return x.s.xferOut[op.n] as number;
    case 'lm':
      return getWord(x.s.lm, lmWordAt(x, op.index, op.off, op.post), true);
    case 'none':
      return 0;
  }
}

/** Applies the instruction's LM post-modifications (after everything else it does). */
export function applyPostMods(x: Exec): void {
  if (!x.hasPostMods) return;
  x.postMods.forEach((step, index) => {
    if (step !== 0) x.s.lmAddr[index] = ((x.s.lmAddr[index] as number) + step + LM_BYTES) % LM_BYTES;
  });
}
