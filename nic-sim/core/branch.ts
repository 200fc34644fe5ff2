/**
 * The branch classes (docs/nic-isa.md "Branches"): `br`/`bCC` on the condition codes
 * (one table row per `br_mask` condition), `br=byte`/`br!=byte` on a byte of a
 * register, `br_bset`/`br_bclr` on a bit, and `rtn[reg]` to the address in a
 * register. Each returns its outcome; the run loop applies the defer slots.
 */
import type { BrAluInsn, BrBitInsn, BrByteInsn, BrInsn } from '../isa/instructions.js';
import { MAX_TARGET, type BrCond } from '../isa/tables.js';
import type { Exec } from './context.js';
import { readSrc } from './operands.js';
import type { Flags } from './state.js';

export interface BranchOutcome {
  readonly taken: boolean;
  readonly target: number;
  readonly defer: number;
}

/** When each condition holds (`br_mask`; PL, VS, VC are the project's). */
export const BR_CONDITION = {
  eq: (f) => f.z,
  ne: (f) => !f.z,
  mi: (f) => f.n,
  pl: (f) => !f.n,
  hs: (f) => f.c,
  lo: (f) => !f.c,
  vs: (f) => f.v,
  vc: (f) => !f.v,
  ge: (f) => f.n === f.v,
  lt: (f) => f.n !== f.v,
  always: () => true,
} as const satisfies Record<BrCond, (f: Flags) => boolean>;

export const execBr = (x: Exec, i: BrInsn): BranchOutcome => ({
  taken: (BR_CONDITION[i.cond] as (f: Flags) => boolean)(x.s.flags),
  target: i.target,
  defer: i.defer,
});

export function execBrByte(x: Exec, i: BrByteInsn): BranchOutcome {
  const byte = (readSrc(x, i.src) >>> (8 * i.byte)) & 0xff;
  return { taken: (byte === i.value) === i.equal, target: i.target, defer: i.defer };
}

export function execBrBit(x: Exec, i: BrBitInsn): BranchOutcome {
  const bit = (readSrc(x, i.src) >>> i.bit) & 1;
  return { taken: (bit === 1) === i.set, target: i.target, defer: i.defer };
}

export function execBrAlu(x: Exec, i: BrAluInsn): BranchOutcome {
  const target = readSrc(x, i.src);
  if (target > MAX_TARGET) x.fail('bad-pc', `return address 0x${target.toString(16)} is above 0x${MAX_TARGET.toString(16)}`);
  return { taken: true, target, defer: i.defer };
}
