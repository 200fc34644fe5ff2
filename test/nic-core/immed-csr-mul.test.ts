/** `immed` widths/shift/invert, local memory through ACT_LM_ADDR (write delay, ORed offsets, post-modify), local_csr_rd, mul_step. */
import { describe, expect, it } from 'vitest';
import { expectError, hex, runAsm, runError } from './run-asm.js';

describe('immed', () => {
  it('immed: shift and invert', () => {
    const { s } = runAsm(`immed[gprA_1, 0x1234, <<16]
                          immed[gprA_3, ~0x12]
                          immed[gprB_4, 0xbeef, <<8]
                          immed[gprAB_5, 0xffff]`);
    expect(hex(s.gprA[1] as number)).toBe('0x12340000');
    expect(hex(s.gprA[3] as number)).toBe('0xffffffed');
    expect(hex(s.gprB[4] as number)).toBe('0xbeef00');
    expect(s.gprA[4]).toBe(0);
    expect([s.gprA[5], s.gprB[5]]).toEqual([0xffff, 0xffff]);
    expect(s.prevResult).toBe(0xffff);
  });

  it('immed_w and immed_b merge into the old value, each bank its own', () => {
    const { s } = runAsm(`immed_w[gprAB_2, 0xdead, <<16]
                          immed_b[gprA_1, 0xab, <<8]
                          immed_w[gprA_3, ~0x1234]
                          immed_b[gprA_6, ~0x0f, <<16]`, (s) => {
      s.gprA[2] = 0x11112222; s.gprB[2] = 0x33334444;
      s.gprA[1] = 0x11223344; s.gprA[3] = 0xaaaaaaaa; s.gprA[6] = 0x12345678;
    });
    expect([hex(s.gprA[2] as number), hex(s.gprB[2] as number)]).toEqual(['0xdead2222', '0xdead4444']);
    expect(hex(s.gprA[1] as number)).toBe('0x1122ab44');
    expect(hex(s.gprA[3] as number)).toBe('0xaaaaedcb');
    expect(hex(s.gprA[6] as number)).toBe('0x12f05678');
    expect(hex(s.prevResult)).toBe('0x12f05678');
  });

  it('leaves the condition codes alone', () => {
    const { s } = runAsm('alu[--, gprA_1, -, 1]\nimmed[gprA_2, 0]', (s) => { s.gprA[1] = 1; });
    expect(s.flags.z).toBe(true);
    expect(s.prevResult).toBe(0);
  });
});

describe('local memory through ACT_LM_ADDRn', () => {
  const setLm0 = `immed[gprA_1, 0x100]
                  local_csr_wr[ACT_LM_ADDR0, gprA_1]
                  nop
                  nop
                  nop`;

  it('writes and reads a word (little-endian lanes) after the three-instruction delay', () => {
    const { s } = runAsm(`${setLm0}
                          alu[*l$index0[1], --, B, gprB_1]
                          alu[gprA_2, --, B, *l$index0[1]]`, (s) => { s.gprB[1] = 0x11223344; });
    expect([...s.lm.subarray(0x104, 0x108)]).toEqual([0x44, 0x33, 0x22, 0x11]);
    expect(hex(s.gprA[2] as number)).toBe('0x11223344');
    expect(s.lmAddr[0]).toBe(0x100);
  });

  it('the pointer is stored & 0xffc and the offset is ORed in, not added', () => {
    const { s } = runAsm(`immed[gprA_1, 0x1107]
                          local_csr_wr[ACT_LM_ADDR1, gprA_1]
                          nop
                          nop
                          immed[gprA_5, 1]
                          alu[gprA_2, --, B, *l$index1[1]]`, (s) => { s.lm.set([1, 2, 3, 4, 5, 6, 7, 8], 0x104); });
    expect(s.lmAddr[1]).toBe(0x104);
    expect(hex(s.gprA[2] as number)).toBe('0x4030201'); // word at 0x104 | 4 = 0x104
  });

  it('using the pointer within three instructions of the write is an error', () => {
    const e = runError(`immed[gprA_1, 0x100]
                        local_csr_wr[ACT_LM_ADDR0, gprA_1]
                        nop
                        nop
                        alu[gprA_2, --, B, *l$index0]`);
    expectError(e, 'hazard', 'pc 4 `alu[gprA_2, --, B, *l$index0]`: LM pointer 0 is used 3 instruction(s) after local_csr_wr[ACT_LM_ADDR0]; the new value is usable from the fourth');
    // another pointer is free to use meanwhile
    expect(() => runAsm(`local_csr_wr[ACT_LM_ADDR0, 8]
                         alu[gprA_2, --, B, *l$index1]`)).not.toThrow();
  });

  it('post-increment and post-decrement move the pointer by 4 after the instruction; local_csr_rd reads it', () => {
    const { s } = runAsm(`${setLm0}
                          alu[gprA_2, --, B, *l$index0++]
                          alu[gprA_3, --, B, *l$index0++]
                          alu[gprA_4, --, B, *l$index0--]
                          local_csr_rd[ACT_LM_ADDR0]
                          immed[gprA_5, 0]`, (s) => {
      s.lm.set([1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0], 0x100);
    });
    expect([s.gprA[2], s.gprA[3], s.gprA[4]]).toEqual([1, 2, 3]);
    expect(hex(s.gprA[5] as number)).toBe('0x104');
  });

  it('pointer 2 through SRC_LMEXTN', () => {
    const { s } = runAsm(`local_csr_wr[ACT_LM_ADDR2, 0x40]
                          nop
                          nop
                          nop
                          alu[gprA_2, *l$index2[1], +, 1]`, (s) => { s.lm[0x44] = 9; });
    expect(s.gprA[2]).toBe(10);
  });
});

describe('local_csr_rd', () => {
  it('PSEUDO_RND_NUM gives the per-run xorshift32 sequence from the seed', () => {
    const { s } = runAsm(`local_csr_rd[PSEUDO_RND_NUM]
                          immed[gprA_1, 0]
                          local_csr_rd[PSEUDO_RND_NUM]
                          immed[gprB_1, 0]`, () => {}, { seed: 1 });
    // xorshift32(1): 1 ^ 1<<13 = 0x2001; ^ >>17 = 0x2001; ^ <<5 = 0x42021
    expect(hex(s.gprA[1] as number)).toBe('0x42021');
    expect(s.prevResult).toBe(s.gprB[1]);
    expect(s.gprB[1]).not.toBe(s.gprA[1]);
  });

  it('must be followed by immed[dst, 0]', () => {
    const e = runError('local_csr_rd[ACT_LM_ADDR0]\nimmed[gprA_1, 1]');
    expectError(e, 'hazard', 'pc 1 `immed[gprA_1, 1]`: local_csr_rd must be followed by immed[dst, 0]');
  });
});

describe('mul_step', () => {
  const mul = (size: string, steps: number, l: number, r: number, last2 = false) =>
    runAsm([
      'mul_step[gprA_1, gprB_1], start',
      ...Array.from({ length: steps }, (_, k) => `mul_step[gprA_1, gprB_1], ${size}_step${k + 1}`),
      `mul_step[gprA_2, --], ${size}_last`,
      ...(last2 ? [`mul_step[gprB_3, --], ${size}_last2`] : []),
    ].join('\n'), (s) => { s.gprA[1] = l; s.gprB[1] = r; }).s;

  it('32x32: low and high words of the 64-bit product', () => {
    const s = mul('32x32', 4, 0x12345678, 0x9abcdef0, true);
    const p = 0x12345678n * 0x9abcdef0n;
    expect(BigInt(s.gprA[2] as number)).toBe(p & 0xffffffffn);
    expect(BigInt(s.gprB[3] as number)).toBe(p >> 32n);
    expect(hex(s.gprB[3] as number)).toBe('0xb00ea4e');
  });

  it('16x16 and 24x8 use the low 16 / 24 and 16 / 8 bits', () => {
    expect(mul('16x16', 2, 0xffff1234, 0x0001abcd).gprA[2]).toBe(0x1234 * 0xabcd);
    expect(mul('24x8', 1, 0xff123456, 0x1ff).gprA[2]).toBe(0x123456 * 0xff);
  });

  it('steps out of order or interrupted are errors', () => {
    expectError(
      runError('mul_step[gprA_1, gprB_1], start\nmul_step[gprA_1, gprB_1], 32x32_step2'),
      'hazard', 'pc 1 `mul_step[gprA_1, gprB_1], 32x32_step2`: multiply step 32x32_step2 out of order',
    );
    expectError(
      runError('mul_step[gprA_1, gprB_1], start\nnop'),
      'hazard', 'pc 1 `nop`: a multiply sequence is interrupted',
    );
    expectError(
      runError('mul_step[gprA_1, gprB_1], start\nmul_step[gprA_1, gprB_1], 16x16_step1\nmul_step[gprA_2, --], 16x16_last'),
      'hazard', 'pc 2 `mul_step[gprA_2, --], 16x16_last`: multiply step 16x16_last out of order',
    );
  });
});
