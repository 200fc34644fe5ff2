/**
 * `alu_shf` (docs/nic-isa.md "alu_shf"): dst = l op shift(r). An indirect amount is
 * `prevA & 31` (`prevA & 63` for the double shift, where more than 32 is refused);
 * ASHR fills with `prevResult` bit 31 (jit.c: "signedness bit told through PREV_ALU
 * result"). Codes and the previous-ALU state are unchanged.
 */
import type { AluShfInsn } from '../isa/instructions.js';
import { logicalOperands } from '../isa/instructions.js';
import type { Exec } from './context.js';
import { readSrc, writeDst } from './operands.js';
import { shift } from './shifter.js';

function amount(x: Exec, i: AluShfInsn): number {
  if (i.shift !== 'indirect') return i.shift;
  if (i.sc !== 'dshr') return x.s.prevA & 31;
  const n = x.s.prevA & 63;
  if (n > 32) x.fail('refused', `indirect double shift by ${n} (more than 32)`);
  return n;
}

export function execAluShf(x: Exec, i: AluShfInsn): void {
  const [lo, ro] = logicalOperands(i);
  const l = readSrc(x, lo);
  const r = readSrc(x, ro);
  const ashr = i.op === 'ashr';
  const shifted = shift(i.sc, l, r, amount(x, i), ashr && x.s.prevResult >>> 31 === 1);
  const result = i.op === 'and' ? l & shifted : i.op === 'or' ? l | shifted : shifted;
  writeDst(x, i.dst, result);
}
