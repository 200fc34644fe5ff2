/** Refusals: words no class decodes, operands that do not fit their field, and what each error names. */
import { describe, expect, it } from 'vitest';
import { decodeProgram, decodeWord } from '../../nic-sim/isa/decode.js';
import { encodeInsn, encodeProgram } from '../../nic-sim/isa/encode.js';
import { IsaError } from '../../nic-sim/isa/errors.js';
import { NOP, type Insn } from '../../nic-sim/isa/instructions.js';
import { gprA, gprB, imm, lm, xfer } from '../../nic-sim/isa/operands.js';

function decodeError(word: bigint, index = 0): IsaError {
  try {
    decodeWord(word, index);
  } catch (e) {
    expect(e).toBeInstanceOf(IsaError);
    const err = e as IsaError;
    expect(err.kind).toBe('decode');
    expect(err.word).toBe(index);
    return err;
  }
  throw new Error(`0x${word.toString(16)} decoded`);
}

function encodeError(insn: Insn): IsaError {
  try {
    encodeInsn(insn);
  } catch (e) {
    expect(e).toBeInstanceOf(IsaError);
    expect((e as IsaError).kind).toBe('encode');
    return e as IsaError;
  }
  throw new Error('encoded');
}

const BR_UNC_0 = 0x0d800008038n; // br[.0]
const ALU_ADD = 0x0a080000000n; // alu[gprA_0, gprA_0, +, gprB_0]

describe('decode refuses', () => {
  it.each<[string, bigint, RegExp]>([
    ['ECC bits (45..63)', 1n << 50n | BR_UNC_0, /bits 45\.\.63 are set .*stores no ECC/],
    ['bit 45, just past the opcode part', 1n << 45n, /bits 45\.\.63/],
    ['CARB', 0x0e000000000n, /CARB \(context arbitration\) is not part/],
    ['BR_ALU opcode bits with bit 31 set', 0x0e880000000n, /no instruction class has these opcode bits/],
    ['a bit outside every ALU field', ALU_ADD | (1n << 40n), /bits 0x10000000000 are outside every ALU field/],
    ['a bit outside every BR field (BR_BASE_MASK)', BR_UNC_0 | 0x40n, /no instruction class has these opcode bits/],
    ['an unassigned ALU operation', 0x0a000000000n | (0x02n << 31n), /ALU operation 0x2 is not assigned/],
    ['a branch with a context-signal-state', BR_UNC_0 & ~0x3c000n, /CSS 0: context-signal-state branches/],
    ['a conditional branch without EV_PIP', 0x0d800008020n, /EV_PIP 0 for a conditional branch/],
    ['defer 3 after an unconditional branch', BR_UNC_0 | (3n << 20n), /defer 3 after an unconditional branch/],
    ['a next-neighbour register', ALU_ADD | 0x280n, /A field code 0x280 is a next-neighbour register/],
    ['an unassigned unrestricted code', ALU_ADD | 0x40n, /A field code 0x40 is not an operand/],
    ['an immediate destination', 0x0a000000000n | (0x305n << 20n), /destination code 0x305 is an immediate/],
    ['DST_AB on a transfer-register destination', 0x0a000000000n | (0x180n << 20n) | 0x1000000000n, /DST_AB\/WR_AB set for a destination that is not a GPR/],
    ['SRC_LMEXTN without an LM source', ALU_ADD | 0x40000000000n, /SRC_LMEXTN is set but no source is in local memory/],
    ['I8 without an immediate', 0x08000000000n | 0x40000n, /I8 is set but neither A nor B holds an immediate/],
    ['an unassigned command target', 0x100000000000n | (0x70n << 32n) | (3n << 8n), /memory target 0x7 is not assigned/],
    ['a context swap without a signal', 0x100000000000n, /a context swap waits for a signal/],
    ['an unknown CSR', 0x0fc00000000n | (0x20n << 22n), /CSR address 0x80 is not assigned/],
    ['a multiply step past the size', 0x0f800000000n | (1n << 31n) | (1n << 20n), /step code 1 with a 24x8 multiply/],
    ['IMMED without an immediate', 0x0f000000000n | 0x401n, /IMMED: neither A nor B holds the immediate/],
    ['an IMMED byte write with a high byte', 0x0f000000000n | 0xc0300n | (1n << 20n) | (1n << 29n), /IMMED byte write with high byte 0x1/],
    ['ld_field into an immediate', 0x0c000000000n | 0x20n, /destination \(left operand\) of LD_FIELD is an immediate/],
    ['rtn with a non-zero immediate', 0x0e800000000n | 0x301n | (1n << 10n), /this project's rtn takes the immediate 0/],
  ])('%s', (_what, word, reason) => {
    expect(decodeError(word, 3).message).toMatch(reason);
    expect(decodeError(word, 3).message).toMatch(/^word 3 \(0x[0-9a-f]{11,}\): /);
  });

  it('names the word of an image that fails', () => {
    const words = [0x0f0000c0300n, 0x0f0000c0300n, 0x0e000000000n];
    expect(() => decodeProgram(words)).toThrow(/^word 2 \(0x0e000000000\): CARB/);
  });
});

describe('encode refuses operands that do not fit', () => {
  it.each<[string, Insn, RegExp]>([
    ['a bank-B GPR in the A field', { cls: 'alu', op: 'add', dst: gprA(0), a: gprB(1), b: gprB(2), swap: false }, /operand gprB_1 cannot be in the A field/],
    ['GPR 32', { cls: 'alu', op: 'add', dst: gprA(0), a: gprA(32), b: gprB(2), swap: false }, /operand gprA_32: GPRs are numbered 0\.\.31/],
    ['transfer register 40', { cls: 'alu', op: 'add', dst: xfer(40), a: gprA(1), b: gprB(2), swap: false }, /operand \$xfer_40: transfer registers are numbered 0\.\.31/],
    ['an unrestricted immediate above 0xff', { cls: 'alu', op: 'add', dst: gprA(0), a: gprA(1), b: imm(0x100), swap: false }, /operand 0x100 does not fit the B field: unrestricted immediates go up to 0xff/],
    ['a restricted immediate above 0xff', { cls: 'alu_shf', op: 'or', dst: gprA(0), a: gprA(1), b: imm(0x200), swap: false, sc: 'rot', shift: 0 }, /operand 0x200 does not fit the B field: restricted immediates go up to 0xff/],
    ['a command immediate above 0x7f (no I8)', { cls: 'cmd', target: 'ctm', action: 'read32', byteSwap: false, xfer: 0, length: 1, a: gprA(1), b: imm(0x80), ctxSwap: true, defer: 0, sig: 1, mode: 'addr32', indirect: false }, /operand 0x80 does not fit the B field: restricted immediates go up to 0x7f/],
    ['two immediates sharing I8', { cls: 'alu_shf', op: 'or', dst: gprA(0), a: imm(1), b: imm(0x90), swap: false, sc: 'rot', shift: 0 }, /operands 1 and 0x90: an immediate above 0x7f needs the I8 bit/],
    ['an LM offset past 7 in a restricted field', { cls: 'alu_shf', op: 'none', dst: gprA(0), a: gprA(0), b: lm(0, 9), swap: false, sc: 'rot', shift: 0 }, /operand \*l\$index0\[9\] does not fit the B field: LM offsets go up to 7/],
    ['an LM offset past 15', { cls: 'alu', op: 'none', dst: gprA(0), a: gprA(0), b: lm(1, 16), swap: false }, /operand \*l\$index1\[16\] does not fit the B field: LM offsets go up to 15/],
    ['LM post-increment in a restricted field', { cls: 'alu_shf', op: 'none', dst: gprA(0), a: gprA(0), b: lm(0, 0, 'inc'), swap: false, sc: 'rot', shift: 0 }, /operand \*l\$index0\+\+ does not fit the B field: restricted fields have no LM post-increment/],
    ['LM index 2 in a command (no LMEXTN)', { cls: 'cmd', target: 'ctm', action: 'read32', byteSwap: false, xfer: 0, length: 1, a: lm(2), b: imm(0), ctxSwap: true, defer: 0, sig: 1, mode: 'addr32', indirect: false }, /operand \*l\$index2 cannot be encoded: this instruction has no LMEXTN bit/],
    ['two LM sources with different LMEXTN', { cls: 'alu', op: 'add', dst: gprA(0), a: lm(0), b: lm(3), swap: false }, /operands \*l\$index0 and \*l\$index3 cannot be read together/],
    ['a branch target past 14 bits', { cls: 'br', cond: 'always', target: 0x4000, defer: 0 }, /branch target 16384 is out of range \(0\.\.16383\)/],
    ['a shift of 32', { cls: 'alu_shf', op: 'none', dst: gprA(0), a: gprA(0), b: gprB(1), swap: false, sc: 'shl', shift: 32 }, /shift amount 32 is out of range/],
    ['ASHR with a left shift', { cls: 'alu_shf', op: 'ashr', dst: gprA(0), a: gprA(0), b: gprB(1), swap: false, sc: 'shl', shift: 3 }, /ASHR shifts right/],
    ['an IMMED value past 16 bits', { cls: 'immed', dst: gprA(0), value: 0x10000, width: 'all', invert: false, shift: 0 }, /IMMED value 65536 is out of range/],
    ['a write to a read-only CSR', { cls: 'local_csr', write: true, csr: 'PSEUDO_RND_NUM', src: gprA(1) }, /CSR PSEUDO_RND_NUM is read-only/],
    ['a compare of an immediate', { cls: 'br_byte', equal: true, src: imm(3), byte: 0, value: 1, target: 0, defer: 0 }, /br=byte reads a register, not the immediate 3/],
    ['a command running past the transfer registers', { cls: 'cmd', target: 'emem', action: 'read32', byteSwap: false, xfer: 30, length: 4, a: gprA(1), b: gprB(1), ctxSwap: true, defer: 0, sig: 1, mode: 'addr32', indirect: false }, /\$xfer_30 \+ 4 words runs past \$xfer_31/],
    ['last2 of a 16x16 product', { cls: 'mul', step: 'last2', size: '16x16', dst: gprA(1) }, /last2 \(the high word\) is for 32x32 products/],
    ['step 3 of a 16x16 product', { cls: 'mul', step: 3, size: '16x16', a: gprA(1), b: gprB(2), swap: false }, /a 16x16 multiply has steps 1\.\.2, not 3/],
  ])('%s', (_what, insn, reason) => {
    expect(encodeError(insn).message).toMatch(reason);
  });

  it('names the instruction of a program that fails', () => {
    const bad: Insn = { cls: 'alu', op: 'add', dst: gprA(0), a: gprA(1), b: gprA(2), swap: false };
    expect(() => encodeProgram([NOP, bad])).toThrow(/^insn 1: operand gprA_2 cannot be in the B field/);
  });
});
