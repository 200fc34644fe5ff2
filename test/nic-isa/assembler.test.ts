/** The assembler's syntax beyond the round trips: labels, comments, operand placement, and errors naming the line. */
import { describe, expect, it } from 'vitest';
import { assemble, assembleWithLabels, assembleWords } from '../../nic-sim/isa/assembler.js';
import { disasmProgram, disasmWords } from '../../nic-sim/isa/disasm.js';
import { IsaError } from '../../nic-sim/isa/errors.js';
import { gprA, gprAB, gprB, imm, xfer } from '../../nic-sim/isa/operands.js';

function asmError(source: string, file?: string): IsaError {
  try {
    assemble(source, file !== undefined ? { file } : {});
  } catch (e) {
    expect(e).toBeInstanceOf(IsaError);
    expect((e as IsaError).kind).toBe('asm');
    return e as IsaError;
  }
  throw new Error('assembled');
}

describe('assembler', () => {
  it('resolves labels, forward and backward, and ignores comments and blank lines', () => {
    const { insns, labels } = assembleWithLabels(`
      ; a loop
      top:  alu[--, gprA_1, -, 1]     // compare
            beq[done], defer[1]
            nop
            br[top]
      done: rtn[gprB_0]
    `);
    expect(labels).toEqual(new Map([['top', 0], ['done', 4]]));
    expect(insns[1]).toEqual({ cls: 'br', cond: 'eq', target: 4, defer: 1 });
    expect(insns[3]).toEqual({ cls: 'br', cond: 'always', target: 0, defer: 0 });
    expect(disasmProgram(insns, { labels: new Map([[0, 'top'], [4, 'done']]) })[1]).toBe('beq[done], defer[1]');
  });

  it('places operands by bank: a left bank-B or right bank-A GPR swaps them', () => {
    expect(assemble('alu[gprA_1, gprB_2, -, gprA_3]')[0]).toEqual({ cls: 'alu', op: 'sub', dst: gprA(1), a: gprA(3), b: gprB(2), swap: true });
    expect(assemble('alu[gprB_1, 7, -, gprB_3]')[0]).toEqual({ cls: 'alu', op: 'sub', dst: gprB(1), a: imm(7), b: gprB(3), swap: false });
    // neither operand is a GPR: no swap unless asked
    expect(assemble('alu[gprA_1, $xfer_1, -, 7]')[0]).toMatchObject({ a: xfer(1), b: imm(7), swap: false });
    expect(assemble('alu[gprA_1, $xfer_1, -, 7], swap')[0]).toMatchObject({ a: imm(7), b: xfer(1), swap: true });
    // `--` is GPR 0 of whichever field is left
    expect(assemble('alu[gprAB_5, --, B, gprA_9]')[0]).toEqual({ cls: 'alu', op: 'none', dst: gprAB(5), a: gprA(9), b: gprB(0), swap: true });
  });

  it('prints `swap` only when the operands alone would not say it', () => {
    const words = assembleWords('alu[gprA_1, gprB_2, +, gprA_3]\nalu[gprA_1, $xfer_1, -, 7], swap\nalu[gprA_1, 7, -, $xfer_1]');
    expect(disasmWords(words)).toEqual(['alu[gprA_1, gprB_2, +, gprA_3]', 'alu[gprA_1, $xfer_1, -, 7], swap', 'alu[gprA_1, 7, -, $xfer_1]']);
  });

  it('accepts the same text with other spacing and case', () => {
    expect(assembleWords('ALU[ gprA_1 , gprA_2 ,and, gprB_3 ]')).toEqual(assembleWords('alu[gprA_1, gprA_2, AND, gprB_3]'));
    expect(assembleWords('alu_shf[gprA_1, gprA_2, OR, gprB_3, >> rot 8]')).toEqual(assembleWords('alu_shf[gprA_1, gprA_2, OR, gprB_3, >>rot 8]'));
  });

  it.each<[string, string, RegExp]>([
    ['an unknown mnemonic', 'nop\nnop\nfrobnicate[gprA_1]', /^line 3: unknown mnemonic "frobnicate"/],
    ['two bank-A operands', 'alu[gprA_1, gprA_2, +, gprA_3]', /^line 1: gprA_2 cannot be in the B field here: an instruction reads one operand from each bank/],
    ['an unknown label', 'br[nowhere]', /^line 1: unknown label "nowhere"/],
    ['a label defined twice', 'a: nop\na: nop', /^line 2: label "a" is defined twice/],
    ['a bad operand', '\nalu[gprA_1, gprC_2, +, gprB_3]', /^line 2: "gprC_2" is not an operand/],
    ['an unknown operation', 'alu[gprA_1, gprA_2, *, gprB_3]', /^line 1: "\*" is not an ALU operation/],
    ['a wrong operand count', 'alu[gprA_1, gprA_2, +]', /^line 1: alu takes alu\[dst, left, op, right\]/],
    ['an option the form does not take', 'alu[gprA_1, gprA_2, +, gprB_3], defer[1]', /^line 1: alu does not take the option defer/],
    ['an operand that does not fit', 'alu[gprA_1, gprA_2, +, 300]', /^line 1: operand 0x12c does not fit the B field/],
    ['a bad byte mask', 'ld_field[gprA_1, 12, gprB_2]', /^line 1: byte mask "12" must be four binary digits/],
    ['a command that swaps', 'ctm[read32, $xfer_0, gprB_1, gprA_2, 1], ctx_swap[sig1]', /^line 1: a command cannot swap its address operands/],
    ['a ctx_swap without a signal', 'ctm[read32, $xfer_0, gprA_1, 0, 1], ctx_swap', /^line 1: ctx_swap needs a signal/],
    ['a last step with a right operand', 'mul_step[gprA_1, gprB_2], 32x32_last', /^line 1: a last step reads nothing/],
    ['unbalanced brackets', 'alu[gprA_1, *l$index0[1, +, gprB_3]', /^line 1: missing "\]"/],
  ])('refuses %s, naming the line', (_what, source, reason) => {
    expect(asmError(source).message).toMatch(reason);
  });

  it('names the file and line', () => {
    const e = asmError('nop\nbr[x]', 'prog.nfp');
    expect(e.line).toBe(2);
    expect(e.message).toBe('prog.nfp: line 2: unknown label "x"');
  });
});

describe('the examples in docs/nic-isa.md', () => {
  const EXAMPLES = [
    'alu[gprAB_4, gprA_2, +, gprB_3]',
    'alu[--, gprA_1, -, 5]',
    'alu[gprA_1, --, ~B, gprB_2]',
    'alu_shf[gprAB_1, --, B, gprB_1, <<3]',
    'alu_shf[gprA_0, gprA_1, OR, 1, <<4]',
    'alu_shf[gprAB_0, gprA_1, B, gprB_0, >>dbl 8]',
    'alu_shf[gprAB_1, --, ASHR, gprB_1, >>indirect]',
    'ld_field_w_clr[gprAB_0, 0011, $xfer_0, >>8]',
    'ld_field[gprAB_1, 1111, gprA_0, >>rot 8]',
    'ld_field[gprAB_1, 0101, gprA_1, >>rot 16]',
    'immed[gprB_1, 0x1234, <<16]',
    'immed_w[gprAB_2, 0xdead, <<16]',
    'immed[gprA_3, ~0x12]',
    'nop',
    'br[.128], defer[2]',
    'abort: blo[abort]',
    'br!=byte[gprA_3, 1, 0xaa, .9]',
    'br_bset[gprA_3, 5, .7]',
    'rtn[gprB_0], defer[2]',
    'ctm[read8, $xfer_0, *l$index1[2], gprB_2, 4], ctx_swap[sig1]',
    'emem[read32_swap, $xfer_0, gprA_0, gprB_1, 2], ctx_swap[sig1], addr40_ba',
    'emem[add32_swap, $xfer_0, gprA_4, gprB_5, 1], ctx_swap[sig2], defer[1], indirect_ref',
    'local_csr_wr[ACT_LM_ADDR3, gprB_21]',
    'local_csr_rd[PSEUDO_RND_NUM]',
    'mul_step[gprA_1, gprB_2], start',
    'mul_step[gprA_1, gprB_2], 32x32_step1',
    'mul_step[gprAB_2, --], 32x32_last',
    'mul_step[gprAB_2, --], 32x32_last2',
  ];

  it.each(EXAMPLES)('%s assembles and prints back the same', (line) => {
    const text = line.replace(/^\w+: /, '');
    expect(disasmProgram(assemble(line))).toEqual([text.replace('abort', '.0')]);
  });
});
