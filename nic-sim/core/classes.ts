/**
 * The class → execution table (one short function per instruction class, as the
 * kernel JIT's `instr_cb`); `satisfies` makes a missing class a type error. A branch
 * class returns its outcome, every other class nothing.
 */
import type { Insn, InsnOf } from '../isa/instructions.js';
import { execAlu } from './alu.js';
import { execAluShf } from './alu-shf.js';
import { execBr, execBrAlu, execBrBit, execBrByte, type BranchOutcome } from './branch.js';
import { execCmd } from './cmd.js';
import type { Exec } from './context.js';
import { execImmed } from './immed.js';
import { execLdField } from './ld-field.js';
import { execLocalCsr } from './local-csr.js';
import { execMul } from './mul.js';

export type ExecFn<C extends Insn['cls']> = (x: Exec, i: InsnOf<C>) => BranchOutcome | void;

export const EXEC = {
  alu: execAlu,
  alu_shf: execAluShf,
  ld_field: execLdField,
  immed: execImmed,
  br: execBr,
  br_byte: execBrByte,
  br_bit: execBrBit,
  br_alu: execBrAlu,
  cmd: execCmd,
  local_csr: execLocalCsr,
  mul: execMul,
} as const satisfies { [C in Insn['cls']]: ExecFn<C> };

export const isBranch = (i: Insn): boolean =>
  i.cls === 'br' || i.cls === 'br_byte' || i.cls === 'br_bit' || i.cls === 'br_alu';
