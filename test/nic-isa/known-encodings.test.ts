/**
 * Hand-computed words, each written as the sum of the nfp_asm.h masks' fields it sets,
 * for one instruction of every class and the kernel JIT's common shapes (emit_nop,
 * an unconditional branch, wrp_reg_mov, emit_csr_wr, the 32x32 multiply steps, ...).
 * Each row checks text → word and word → text.
 */
import { describe, expect, it } from 'vitest';
import { assembleWords } from '../../nic-sim/isa/assembler.js';
import { decodeWord } from '../../nic-sim/isa/decode.js';
import { disasmInsn } from '../../nic-sim/isa/disasm.js';
import { encodeInsn } from '../../nic-sim/isa/encode.js';
import { NOP } from '../../nic-sim/isa/instructions.js';

/** value << (position of the mask's lowest bit) */
const at = (mask: bigint, value: bigint): bigint => {
  let s = 0n;
  while (((mask >> s) & 1n) === 0n) s++;
  return value << s;
};

const OP_BR_BASE = 0x0d800000020n;
const OP_BR_EV_PIP = 0x300n;
const OP_BR_CSS = 0x3c000n;
const OP_BR_DEFBR = 0x300000n;
const OP_BR_ADDR_LO = 0x007ffc00000n;
const OP_BR_ADDR_HI = 0x10000000000n;
const OP_ALU_BASE = 0x0a000000000n;
const OP_IMMED_BASE = 0x0f000000000n;
const OP_SHF_BASE = 0x08000000000n;
const OP_LDF_BASE = 0x0c000000000n;
const OP_BBYTE_BASE = 0x0c800000000n;
const OP_BR_BIT_BASE = 0x0d000000000n;
const OP_BR_ALU_BASE = 0x0e800000000n;
const OP_LCSR_BASE = 0x0fc00000000n;
const OP_MUL_BASE = 0x0f800000000n;
const WR_AB = 0x20000000000n;
const UR_REG_IMM = 0x300n;
const UR_REG_NO_DST = 0x300n;
const RE_REG_XFR = 0x80n;
const BR_CSS_NONE = 2n;

const TABLE: [string, bigint][] = [
  // __emit_br(BR_UNC, EV_PIP_UNCOND, CSS_NONE, 0x80, 0)
  ['br[.128]', OP_BR_BASE | 0x18n | at(OP_BR_CSS, BR_CSS_NONE) | at(OP_BR_ADDR_LO, 0x80n)],
  ['br[.128], defer[2]', OP_BR_BASE | 0x18n | at(OP_BR_CSS, BR_CSS_NONE) | at(OP_BR_DEFBR, 2n) | at(OP_BR_ADDR_LO, 0x80n)],
  // a target past 13 bits sets ADDR_HI
  ['br[.8193]', OP_BR_BASE | 0x18n | at(OP_BR_CSS, BR_CSS_NONE) | OP_BR_ADDR_HI | at(OP_BR_ADDR_LO, 1n)],
  ['blo[.3], defer[1]', OP_BR_BASE | 0x05n | at(OP_BR_EV_PIP, 1n) | at(OP_BR_CSS, BR_CSS_NONE) | at(OP_BR_DEFBR, 1n) | at(OP_BR_ADDR_LO, 3n)],
  // emit_nop: immed with A = B = UR_REG_IMM
  ['nop', OP_IMMED_BASE | UR_REG_IMM | at(0xffc00n, UR_REG_IMM)],
  // wrp_immed(reg_b(1), 0x12340000): low byte 0x34 in A, gprB_1 in B, IMM 0x12, SHIFT 2 bytes
  ['immed[gprB_1, 0x1234, <<16]', OP_IMMED_BASE | (UR_REG_IMM | 0x34n) | at(0xffc00n, 1n) | at(0xff00000n, 0x12n) | at(0x600000000n, 2n)],
  // immed to both banks, inverted word write
  ['immed_w[gprAB_2, ~0xffff, <<16]', OP_IMMED_BASE | 2n | at(0xffc00n, UR_REG_IMM | 0xffn) | at(0xff00000n, 0xffn) | at(0x60000000n, 2n) | 0x80000000n | at(0x600000000n, 2n) | WR_AB],
  // add_reg64 low half: alu[reg_both(4), reg_a(2), ADD, reg_b(3)]
  ['alu[gprAB_4, gprA_2, +, gprB_3]', OP_ALU_BASE | 2n | at(0xffc00n, 3n) | at(0x3ff00000n, 4n) | at(0xf80000000n, 0x01n) | WR_AB],
  // compare: alu[--, gprA_1, -, 5] (SUB, no destination, immediate in B)
  ['alu[--, gprA_1, -, 5]', OP_ALU_BASE | 1n | at(0xffc00n, UR_REG_IMM | 5n) | at(0x3ff00000n, UR_REG_NO_DST) | at(0xf80000000n, 0x15n)],
  // wrp_mov(reg_a(1), reg_a(7)): the source is in A, so the operands swap (SW)
  ['alu[gprA_1, --, B, gprA_7]', OP_ALU_BASE | 7n | at(0x3ff00000n, 1n) | 0x40000000n],
  // destination in bank B: DST_AB
  ['alu[gprB_9, gprA_1, XOR, gprB_1]', OP_ALU_BASE | 1n | at(0xffc00n, 1n) | at(0x3ff00000n, 9n) | at(0xf80000000n, 0x18n) | 0x1000000000n],
  // shl_imm: alu_shf[reg_both(1), --, NONE, reg_b(1), L_SHF 3]: SHIFT holds 32 - 3
  ['alu_shf[gprAB_1, --, B, gprB_1, <<3]', OP_SHF_BASE | at(0x300n, 2n) | at(0x3fc00n, 1n) | at(0xff00000n, 1n) | at(0x1f0000000n, 29n) | WR_AB],
  // an indirect right shift: SHIFT 0
  ['alu_shf[gprA_1, --, B, gprB_2, >>indirect]', OP_SHF_BASE | at(0x300n, 1n) | at(0x3fc00n, 2n) | at(0xff00000n, 1n)],
  // wrp_reg_subpart: ld_field_w_clr[both(0), 0011, $xfer_0, >>8]
  ['ld_field_w_clr[gprAB_0, 0011, $xfer_0, >>8]', OP_LDF_BASE | at(0x300n, 1n) | at(0x3fc00n, RE_REG_XFR) | 0x100000n | at(0xf000000n, 3n) | at(0x1f0000000n, 8n) | WR_AB],
  // br!=byte with an 8-bit immediate: RE_REG_IMM_encode(0x2a) in B, I8 for bit 7
  ['br!=byte[gprA_3, 1, 0xaa, .9]', OP_BBYTE_BASE | 3n | at(0x300n, 1n) | at(0x3fc00n, 0x20n | 0x0an | ((0x2an & 0x60n) << 1n)) | 0x40000n | at(OP_BR_ADDR_LO, 9n)],
  // emit_br_bset(reg_a(3), 5, 7, 0): rotation 6 as a restricted immediate in B
  ['br_bset[gprA_3, 5, .7]', OP_BR_BIT_BASE | 3n | at(0x3fc00n, 0x20n | 6n) | 0x40000n | at(OP_BR_ADDR_LO, 7n)],
  // emit_rtn(reg_b(0), 2)
  ['rtn[gprB_0], defer[2]', OP_BR_ALU_BASE | UR_REG_IMM | at(0x300000n, 2n)],
  // emit_csr_wr(reg_b(22), ACT_LM_ADDR0): ADDR = 0x64 / 4
  ['local_csr_wr[ACT_LM_ADDR0, gprB_22]', OP_LCSR_BASE | UR_REG_IMM | at(0xffc00n, 22n) | 0x200000n | at(0x1ffc00000n, 0x64n / 4n)],
  // an immediate is repeated in A and B
  ['local_csr_wr[ACT_LM_ADDR3, 0x40]', OP_LCSR_BASE | (UR_REG_IMM | 0x40n) | at(0xffc00n, UR_REG_IMM | 0x40n) | 0x200000n | at(0x1ffc00000n, 0x9cn / 4n)],
  ['local_csr_rd[PSEUDO_RND_NUM]', OP_LCSR_BASE | at(0x1ffc00000n, 0x148n / 4n)],
  // wrp_mul_u32: start, step1, last
  ['mul_step[gprA_1, gprB_2], start', OP_MUL_BASE | 1n | at(0xffc00n, 2n)],
  ['mul_step[gprA_1, gprB_2], 32x32_step1', OP_MUL_BASE | 1n | at(0xffc00n, 2n) | at(0x180000000n, 3n)],
  ['mul_step[gprB_3, --], 32x32_last', OP_MUL_BASE | 3n | at(0x700000n, 4n) | 0x800000n | at(0x180000000n, 3n)],
  // a packet read (project command codes: target CTM 0, action read8 2 → TGT_CMD 0x02; MODE 32b = 4)
  ['ctm[read8, $xfer_0, gprA_24, gprB_2, 4], ctx_swap[sig1]', 24n | at(0x3fc00n, 2n) | at(0xe000000n, 3n) | at(0xf0000000n, 1n) | at(0x7f00000000n, 0x02n) | at(0x1c0000000000n, 4n)],
  // a map-value read in 40-bit mode (EMEM 3, read32 0 → 0x30; byte-swapped: TOKEN 1; MODE 40b_BA = 1)
  ['emem[read32_swap, $xfer_0, gprA_0, gprB_1, 2], ctx_swap[sig1], addr40_ba', at(0x3fc00n, 1n) | at(0xc0000n, 1n) | at(0xe000000n, 1n) | at(0xf0000000n, 1n) | at(0x7f00000000n, 0x30n) | at(0x1c0000000000n, 1n)],
];

describe('known encodings', () => {
  it.each(TABLE)('%s = %s', (text, word) => {
    expect(assembleWords(text)).toEqual([word]);
    expect(disasmInsn(decodeWord(word))).toBe(text);
  });

  it('the unconditional branch to 0x80 without defer is 0x0d820008038', () => {
    expect(assembleWords('br[.128]')[0]).toBe(0x0d820008038n);
  });

  it('the nop the kernel JIT pads with is 0x0f0000c0300', () => {
    expect(encodeInsn(NOP)).toBe(0x0f0000c0300n);
  });
});
