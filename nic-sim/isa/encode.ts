/** Instructions to words; an instruction that cannot be encoded fails with an `IsaError` (kind 'encode') naming what does not fit. */
import { codecFor } from './codecs.js';
import { encodeFail } from './errors.js';
import type { Insn } from './instructions.js';

export function encodeInsn(insn: Insn, index?: number): bigint {
  const fail = encodeFail(index);
  const codec = codecFor(insn.cls) ?? fail(`unknown instruction class ${String(insn.cls)}`);
  return codec.encode(insn, fail);
}

export const encodeProgram = (insns: readonly Insn[]): bigint[] => insns.map((insn, i) => encodeInsn(insn, i));
