/**
 * `mul_step` (docs/nic-isa.md "mul_step"): a per-thread 64-bit product P. `start`
 * clears it; step k of a size adds (lx × byte k−1 of rx) << 8(k−1); `last` writes P's
 * low word, `32x32_last2` its high word. The steps must run consecutively, in order
 * (start, step 1..N, last, [last2]) — run.ts refuses any other instruction while a
 * sequence is open; this module refuses a step out of order. Codes and previous-ALU
 * state unchanged.
 */
import type { MulInsn } from '../isa/instructions.js';
import { isMulLast, logicalOperands } from '../isa/instructions.js';
import { MUL_STEPS, type MulSize } from '../isa/tables.js';
import type { Exec } from './context.js';
import { readSrc, writeDst } from './operands.js';
import type { MulPhase } from './state.js';

const LEFT_MASK: Readonly<Record<MulSize, number>> = { '24x8': 0xffffff, '16x16': 0xffff, '32x32': 0xffffffff };
const RIGHT_MASK: Readonly<Record<MulSize, number>> = { '24x8': 0xff, '16x16': 0xffff, '32x32': 0xffffffff };

/** Whether a multiply sequence is open: only its next step may run. */
export const mulOpen = (p: MulPhase): boolean => p.k === 'started' || p.k === 'step';

const stepName = (i: MulInsn): string =>
  i.step === 'start' ? 'start' : `${i.size}_${typeof i.step === 'number' ? `step${i.step}` : i.step}`;

export function execMul(x: Exec, i: MulInsn): void {
  const p = x.s.mul;
  const bad = (): never => x.fail('hazard', `multiply step ${stepName(i)} out of order`);
  if (i.step === 'start') {
    if (mulOpen(p)) bad();
    const [lo, ro] = logicalOperands(i);
    readSrc(x, lo);
    readSrc(x, ro);
    x.s.product = 0n;
    x.s.mul = { k: 'started' };
    return;
  }
  if (isMulLast(i)) {
    const ok = i.step === 'last'
      ? p.k === 'step' && p.size === i.size && p.done === MUL_STEPS[i.size]
      : p.k === 'after-last' && p.size === '32x32' && i.size === '32x32';
    if (!ok) bad();
    const word = i.step === 'last' ? x.s.product & 0xffffffffn : (x.s.product >> 32n) & 0xffffffffn;
    writeDst(x, i.dst, Number(word));
    x.s.mul = i.step === 'last' && i.size === '32x32' ? { k: 'after-last', size: i.size } : { k: 'idle' };
    return;
  }
  const expected = p.k === 'started' ? 1 : p.k === 'step' && p.size === i.size ? p.done + 1 : 0;
  if (i.step !== expected || i.step > MUL_STEPS[i.size]) bad();
  const [lo, ro] = logicalOperands(i);
  const l = readSrc(x, lo) & LEFT_MASK[i.size];
  const r = readSrc(x, ro) & RIGHT_MASK[i.size];
  const k = i.step - 1;
  const byte = (r >>> (8 * k)) & 0xff;
  x.s.product = (x.s.product + ((BigInt(l >>> 0) * BigInt(byte)) << BigInt(8 * k))) & 0xffffffffffffffffn;
  x.s.mul = { k: 'step', size: i.size, done: i.step };
}
