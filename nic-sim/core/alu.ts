/**
 * `alu` (docs/nic-isa.md "alu"): one table row per operation giving the result and the
 * C and V codes; every `alu` sets Z and N from the result, `prevA` to the A-field
 * operand and `prevResult` to the result. The only class that sets condition codes.
 */
import type { AluInsn } from '../isa/instructions.js';
import { logicalOperands } from '../isa/instructions.js';
import type { AluOp } from '../isa/tables.js';
import type { Exec } from './context.js';
import { readSrc, writeDst } from './operands.js';

export interface AluOut {
  readonly result: number;
  readonly c: boolean;
  readonly v: boolean;
}

/** l + r + cin with C = carry out of bit 31, V = signed overflow. */
function add(l: number, r: number, cin: number): AluOut {
  const sum = l + r + cin;
  const result = sum >>> 0;
  const signed = (l | 0) + (r | 0) + cin;
  return { result, c: sum > 0xffffffff, v: signed > 0x7fffffff || signed < -0x80000000 };
}

/** l − r − borrow with C = 1 when there is no borrow, V = signed overflow. */
function sub(l: number, r: number, borrow: number): AluOut {
  const diff = l - r - borrow;
  const signed = (l | 0) - (r | 0) - borrow;
  return { result: diff >>> 0, c: diff >= 0, v: signed > 0x7fffffff || signed < -0x80000000 };
}

const logic = (result: number): AluOut => ({ result: result >>> 0, c: false, v: false });

/** (l, r, C in) → result and codes, for every `alu_op`. */
export const ALU_TABLE = {
  none: (_l, r) => logic(r),
  not: (_l, r) => logic(~r),
  add: (l, r) => add(l, r, 0),
  add_c: (l, r, c) => add(l, r, c ? 1 : 0),
  add_2b: (l, r) => {
    const low = (l & 0xffff) + (r & 0xffff);
    return { result: low & 0xffff, c: low > 0xffff, v: false };
  },
  sub: (l, r) => sub(l, r, 0),
  sub_c: (l, r, c) => sub(l, r, c ? 0 : 1),
  and: (l, r) => logic(l & r),
  and_not_a: (l, r) => logic(~l & r),
  and_not_b: (l, r) => logic(l & ~r),
  or: (l, r) => logic(l | r),
  xor: (l, r) => logic(l ^ r),
} as const satisfies Record<AluOp, (l: number, r: number, c: boolean) => AluOut>;

export function execAlu(x: Exec, i: AluInsn): void {
  const [lo, ro] = logicalOperands(i);
  const l = readSrc(x, lo);
  const r = readSrc(x, ro);
  const aValue = i.swap ? r : l;
  const out = (ALU_TABLE[i.op] as (l: number, r: number, c: boolean) => AluOut)(l, r, x.s.flags.c);
  const f = x.s.flags;
  f.z = out.result === 0;
  f.n = out.result >>> 31 === 1;
  f.c = out.c;
  f.v = out.v;
  x.s.prevA = aValue;
  x.s.prevResult = out.result;
  writeDst(x, i.dst, out.result);
}
