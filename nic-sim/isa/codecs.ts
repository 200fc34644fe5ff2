/** One codec per instruction class: the table encode and decode dispatch on. */
import { aluShfCodec } from './codec-alu-shf.js';
import { aluCodec } from './codec-alu.js';
import { brAluCodec, brBitCodec, brByteCodec, brCodec } from './codec-branch.js';
import { cmdCodec } from './codec-cmd.js';
import type { Codec } from './codec-common.js';
import { immedCodec } from './codec-immed.js';
import { ldFieldCodec } from './codec-ld-field.js';
import { localCsrCodec } from './codec-local-csr.js';
import { mulCodec } from './codec-mul.js';
import type { IsaClass } from './fields.js';
import type { Insn } from './instructions.js';

export const CODECS = {
  alu: aluCodec, alu_shf: aluShfCodec, ld_field: ldFieldCodec, immed: immedCodec, br: brCodec, br_byte: brByteCodec,
  br_bit: brBitCodec, br_alu: brAluCodec, cmd: cmdCodec, local_csr: localCsrCodec, mul: mulCodec,
} as const satisfies { [C in IsaClass]: Codec<C> };

/** Class names as the header spells them, for messages. */
export const CLASS_TITLE: Readonly<Record<IsaClass | 'carb', string>> = {
  alu: 'ALU', alu_shf: 'ALU_SHF', ld_field: 'LD_FIELD', immed: 'IMMED', br: 'BR', br_byte: 'BR_BYTE', br_bit: 'BR_BIT',
  br_alu: 'BR_ALU', cmd: 'CMD', local_csr: 'LOCAL_CSR', mul: 'MUL', carb: 'CARB',
};

/** The codec of an instruction's class, typed for that instruction. */
export const codecFor = (cls: Insn['cls']): Codec<Insn['cls']> | undefined =>
  (CODECS as Partial<Record<string, Codec<Insn['cls']>>>)[cls];
