/**
 * Exact card code for a handful of lowerings (read as disassembler text), the image's
 * shape (outro, end address, prefetch pad, source map), the typed refusals, and the
 * outro's action code for every XDP return value.
 */
import { describe, expect, it } from 'vitest';
import { isNop } from '../../nic-sim/isa/instructions.js';
import { disasmProgram } from '../../nic-sim/isa/disasm.js';
import type { InsnRecord } from '../../offload/verifier/insn-records.js';
import {
  JitError, NO_SOURCE, NfpAction, XdpAction, nfpActionOf, recordsFromInsns, translate, type JitRecord,
} from '../../offload/jit/translate.js';
import { makeInsn, type Insn } from '../../xdp/isa/insn.js';
import { Class, Mode, Size } from '../../xdp/isa/opcodes.js';
import {
  aluInsn, exitInsn, jaInsn, jmpInsn, lddwInsn, ldxInsn, runCard, runHost, stInsn, stxInsn,
} from './harness.js';

/** No optimisations: the lowerings as they are (passes are tested on their own, test/jit/passes.test.ts). */
const jit = (insns: readonly Insn[]) => translate(recordsFromInsns(insns), { passes: new Set() });
/** The card code of the program's own instructions (before the outro), as text. */
const body = (insns: readonly Insn[]): string[] => {
  const p = jit(insns);
  return disasmProgram(p.insns.slice(0, p.outroPc));
};

function refusal(insns: readonly Insn[]): JitError {
  try {
    jit(insns);
  } catch (e) {
    if (e instanceof JitError) return e;
    throw e;
  }
  throw new Error('translate did not refuse');
}

describe('lowerings', () => {
  it('64-bit add reg-reg is ADD then ADD_C, two instructions, destination in both banks', () => {
    expect(body([aluInsn(64, 'add', 2, { reg: 3 }), exitInsn()])).toEqual([
      'alu[gprAB_4, gprA_4, +, gprB_6]',
      'alu[gprAB_5, gprA_5, +carry, gprB_7]',
      'br[.3]',
    ]);
  });

  it('64-bit sub: imm -1 is ~0 in both words (one inverted immed each); a small one stays in the operand field', () => {
    expect(body([aluInsn(64, 'sub', 1, { imm: -1 }), exitInsn()])).toEqual([
      'immed[gprB_21, ~0]',
      'alu[gprAB_2, gprA_2, -, gprB_21]',
      'immed[gprB_21, ~0]',
      'alu[gprAB_3, gprA_3, -carry, gprB_21]',
      'br[.5]',
    ]);
    expect(body([aluInsn(64, 'sub', 1, { imm: 7 }), exitInsn()]).slice(0, 2)).toEqual([
      'alu[gprAB_2, gprA_2, -, 7]',
      'alu[gprAB_3, gprA_3, -carry, 0]',
    ]);
  });

  it('XOR with all ones is NOT (~B), no immed; a 32-bit one zeroes the high word', () => {
    expect(body([aluInsn(64, 'xor', 1, { imm: -1 }), exitInsn()]).slice(0, 2)).toEqual(['alu[gprAB_2, --, ~B, gprB_2]', 'alu[gprAB_3, --, ~B, gprB_3]']);
    expect(body([aluInsn(32, 'xor', 1, { imm: -1 }), exitInsn()]).slice(0, 2)).toEqual(['alu[gprAB_2, --, ~B, gprB_2]', 'immed[gprAB_3, 0]']);
    // Only a word of all ones: 255 (a zero high word) stays two XORs.
    expect(body([aluInsn(64, 'xor', 1, { imm: 255 }), exitInsn()]).slice(0, 2)).toEqual(['alu[gprAB_2, gprA_2, XOR, 0xff]', 'alu[gprAB_3, gprA_3, XOR, 0]']);
  });

  it('a large immediate goes through immed into the scratch register gprB_21', () => {
    expect(body([aluInsn(64, 'add', 1, { imm: 0x12345678 }), exitInsn()])).toEqual([
      'immed[gprB_21, 0x5678]',
      'immed_w[gprB_21, 0x1234, <<16]',
      'alu[gprAB_2, gprA_2, +, gprB_21]',
      'alu[gprAB_3, gprA_3, +carry, 0]',
      'br[.5]',
    ]);
  });

  it('ALU32 writes the low word and zeroes the high word; constants use one immed where 16 bits (or the inverse) suffice', () => {
    expect(body([aluInsn(32, 'mov', 1, { imm: -2 }), exitInsn()])).toEqual(['immed[gprAB_2, ~1]', 'immed[gprAB_3, 0]', 'br[.3]']);
    expect(body([aluInsn(32, 'xor', 4, { reg: 5 }), exitInsn()])).toEqual([
      'alu[gprAB_8, gprA_8, XOR, gprB_10]', 'immed[gprAB_9, 0]', 'br[.3]',
    ]);
    expect(body([lddwInsn(3, 0xab0000_00cd0000n), exitInsn()])).toEqual([
      // The first byte shift whose 16-bit window holds the value, as the kernel's pack_immed.
      'immed[gprAB_6, 0xcd00, <<8]', 'immed[gprAB_7, 0xab00, <<8]', 'br[.3]',
    ]);
  });

  it('a 64-bit jeq against an immediate: XOR the low word, OR the high word in (its XOR with 0 is itself), beq', () => {
    expect(body([jmpInsn(64, 'jeq', 1, { imm: 0x1ff }, 1), exitInsn(), exitInsn()])).toEqual([
      'immed[gprB_21, 0x1ff]',
      'alu[gprB_20, gprA_2, XOR, gprB_21]',
      'alu[--, gprA_3, OR, gprB_20]',
      'beq[.5]',
      'br[.6]',
      'br[.6]',
    ]);
    // Against 0: the two words ORed. A negative immediate's high word is all ones: XOR each word.
    expect(body([jmpInsn(64, 'jne', 1, { imm: 0 }, 1), exitInsn(), exitInsn()]).slice(0, 2)).toEqual(['alu[--, gprA_2, OR, gprB_3]', 'bne[.3]']);
    expect(body([jmpInsn(64, 'jeq', 1, { imm: -2 }, 1), exitInsn(), exitInsn()]).slice(0, 6)).toEqual([
      'immed[gprB_21, ~1]', 'alu[gprB_20, gprA_2, XOR, gprB_21]', 'immed[gprB_21, ~0]', 'alu[gprA_20, gprA_3, XOR, gprB_21]', 'alu[--, gprA_20, OR, gprB_20]', 'beq[.7]',
    ]);
  });

  it('ordered compares: SUB/SUB_C, swapped operands for jgt (source from bank A)', () => {
    expect(body([jmpInsn(64, 'jgt', 1, { reg: 2 }, 0), exitInsn()]).slice(0, 3)).toEqual([
      'alu[--, gprA_4, -, gprB_2]',
      'alu[--, gprA_5, -carry, gprB_3]',
      'blo[.3]',
    ]);
    expect(body([jmpInsn(32, 'jsge', 1, { imm: 5 }, 0), exitInsn()]).slice(0, 2)).toEqual(['alu[--, gprA_2, -, 5]', 'bge[.2]']);
  });

  it('a 32-bit arsh by a register: amount & 31 in gprA_20, OR with the word (prevA and sign), ASHR >>indirect', () => {
    expect(body([aluInsn(32, 'arsh', 1, { reg: 2 }), exitInsn()])).toEqual([
      'alu[gprA_20, gprA_4, AND, 0x1f]',
      'alu[--, gprA_20, OR, gprB_2]',
      'alu_shf[gprAB_2, --, ASHR, gprB_2, >>indirect]',
      'immed[gprAB_3, 0]',
      'br[.5]',
    ]);
  });

  it('a 64-bit rsh by a register: bit 5 of the amount picks the block; >>dbl indirect below 32', () => {
    expect(body([aluInsn(64, 'rsh', 1, { reg: 2 }), exitInsn()])).toEqual([
      'alu[--, gprA_4, AND, 0x20]',
      'bne[.5]',
      'alu_shf[gprAB_2, gprA_3, B, gprB_2, >>dbl indirect]',
      'alu_shf[gprAB_3, --, B, gprB_3, >>indirect]',
      'br[.7]',
      'alu_shf[gprAB_2, --, B, gprB_3, >>indirect]',
      'immed[gprAB_3, 0]',
      'br[.8]',
    ]);
  });

  it('64-bit lsh and arsh by a register agree with the interpreter at every amount 0..63 (and above: masked)', () => {
    for (const op of ['lsh', 'rsh', 'arsh'] as const) {
      for (const width of [32, 64] as const) {
        for (const n of [...Array(64).keys(), 64, 100, -1]) {
          const insns = [aluInsn(width, op, 1, { reg: 2 }), aluInsn(64, 'mov', 0, { reg: 1 }), exitInsn()];
          const init = [0n, 0x8765_4321_f0e1_d2c3n, BigInt.asUintN(64, BigInt(n))];
          expect(runCard(insns, init).regs).toEqual(runHost(insns, init));
        }
      }
    }
  });

  it('the stack: a prologue sets LM pointer 1 to the top window from the entry state (GPR 26), 3 nops; 8-byte store word by word, 2-byte load by ld_field_w_clr', () => {
    expect(body([stxInsn(8, 10, -8, 1), ldxInsn(2, 0, 10, -6), exitInsn()])).toEqual([
      'local_csr_wr[ACT_LM_ADDR1, gprA_26]',
      'nop',
      'nop',
      'nop',
      'alu[*l$index1[6], --, B, gprB_2]',
      'alu[*l$index1[7], --, B, gprB_3]',
      'ld_field_w_clr[gprAB_0, 0011, *l$index1[6], >>16]',
      'immed[gprAB_1, 0]',
      'br[.9]',
    ]);
  });

  it('the stack below the top window: LM pointer 3 set per access, the constant loaded in the write delay', () => {
    const p = jit([stInsn(2, 10, -300, 0x1234), ldxInsn(1, 0, 10, -299), exitInsn()]);
    expect(disasmProgram(p.insns.slice(4, p.outroPc))).toEqual([
      'local_csr_wr[ACT_LM_ADDR3, 0xc0]',
      'immed[gprB_21, 0x1234]',
      'nop',
      'nop',
      'ld_field[*l$index3[5], 0011, gprB_21]',
      'local_csr_wr[ACT_LM_ADDR3, 0xc0]',
      'nop',
      'nop',
      'nop',
      'ld_field_w_clr[gprAB_0, 0001, *l$index3[5], >>8]',
      'immed[gprAB_1, 0]',
      'br[.16]',
    ]);
    expect(p.sourceMap.slice(0, 4).every((i) => i === NO_SOURCE)).toBe(true);
    expect(p.addressOf.get(0)).toBe(4);
  });

  it('stack bytes are little-endian: an 8-byte store read back in every size and place', () => {
    const v = 0x0102_0304_0506_0708n;
    for (const off of [-8, -16, -256, -512]) {
      for (const size of [1, 2, 4, 8] as const) {
        for (let sub = 0; sub < 8; sub += size) {
          const insns = [stxInsn(8, 10, off, 1), ldxInsn(size, 0, 10, off + sub), exitInsn()];
          const want = (v >> BigInt(8 * sub)) & ((1n << BigInt(8 * size)) - 1n);
          expect(runHost(insns, [0n, v])[0]).toBe(want);
          expect(runCard(insns, [0n, v]).regs[0]).toBe(want);
        }
      }
    }
  });

  it('a 32-bit mul: start, four 32x32 steps, last into the low word, immed[hi, 0]', () => {
    expect(body([aluInsn(32, 'mul', 1, { reg: 2 }), exitInsn()])).toEqual([
      'mul_step[gprA_2, gprB_4], start',
      'mul_step[gprA_2, gprB_4], 32x32_step1',
      'mul_step[gprA_2, gprB_4], 32x32_step2',
      'mul_step[gprA_2, gprB_4], 32x32_step3',
      'mul_step[gprA_2, gprB_4], 32x32_step4',
      'mul_step[gprAB_2, --], 32x32_last',
      'immed[gprAB_3, 0]',
      'br[.8]',
    ]);
  });

  it('a 64-bit mul by a small constant: dh·sl and dl·sl (its high word 0 drops dl·sh), low words summed into dh', () => {
    const steps = (l: string, r: string): string[] =>
      ['start', '32x32_step1', '32x32_step2', '32x32_step3', '32x32_step4'].map((st) => `mul_step[${l}, ${r}], ${st}`);
    expect(body([aluInsn(64, 'mul', 1, { imm: 7 }), exitInsn()])).toEqual([
      ...steps('gprA_3', '7'),
      'mul_step[gprB_20, --], 32x32_last',
      ...steps('gprA_2', '7'),
      'mul_step[gprAB_2, --], 32x32_last',
      'mul_step[gprA_21, --], 32x32_last2',
      'alu[gprAB_3, gprA_21, +, gprB_20]',
      'br[.15]',
    ]);
  });

  it('64-bit and 32-bit mul keep the low bits of the product, r = r·r included', () => {
    const vals = [0n, 1n, 0xffff_ffffn, 1n << 32n, (1n << 64n) - 1n, 0x8765_4321_f0e1_d2c3n, 0x1234_5678_9abc_def0n];
    for (const a of vals) {
      for (const b of vals) {
        for (const width of [32, 64] as const) {
          for (const insns of [
            [aluInsn(width, 'mul', 1, { reg: 2 }), exitInsn()],
            [aluInsn(width, 'mul', 2, { reg: 2 }), exitInsn()],
            [aluInsn(width, 'mul', 1, { imm: Number(BigInt.asIntN(32, b)) }), exitInsn()],
          ]) {
            expect(runCard(insns, [0n, a, b]).regs).toEqual(runHost(insns, [0n, a, b]));
          }
        }
      }
    }
  });

  it('branch targets are card addresses of eBPF indexes (an lddw is two slots)', () => {
    const insns = [jaInsn(2), lddwInsn(0, 1n << 40n), exitInsn()];
    const p = jit(insns);
    expect([...p.addressOf]).toEqual([[0, 0], [1, 1], [3, 3]]);
    expect(disasmProgram(p.insns.slice(0, 1))).toEqual(['br[.3]']);
  });
});

describe('the image', () => {
  it('body, shared outro, end address, then the 8-nop prefetch window; the source map names each eBPF index', () => {
    const insns = [aluInsn(64, 'mov', 0, { imm: 2 }), exitInsn()];
    const p = jit(insns);
    expect(p.sourceMap.slice(0, p.outroPc)).toEqual([0, 0, 1]);
    expect(p.sourceMap.slice(p.outroPc).every((i) => i === NO_SOURCE)).toBe(true);
    expect(p.insns.length).toBe(p.endPc + 8);
    expect(p.insns.slice(p.endPc).every(isNop)).toBe(true);
    expect(p.sourceMap.length).toBe(p.insns.length);
  });

  it('records from the verifier (InsnRecord) are JIT records', () => {
    const asJit = (r: InsnRecord): JitRecord => r;
    expect(typeof asJit).toBe('function');
  });
});

describe('refusals name the eBPF instruction index and why', () => {
  it('a memory load through a register of no verifier type, after an lddw, is refused at index 2', () => {
    const ldx = makeInsn(Class.LDX | Mode.MEM | Size.W, 0, 1, 0, 0);
    const e = refusal([lddwInsn(1, 5n), ldx, exitInsn()]);
    expect(e.kind).toBe('unsupported');
    expect(e.index).toBe(2);
    expect(e.message).toMatch(/^insn 2: eBPF instruction 2: ldx \(4 bytes\): r1 has no type from the verifier/);
  });

  it('stack accesses outside the 512 bytes, misaligned, sign-extending, and atomics are refused', () => {
    expect(refusal([stxInsn(8, 10, -520, 1), exitInsn()]).reason).toMatch(/^stx \(8 bytes\) at r10-520: outside the 512-byte stack/);
    expect(refusal([stInsn(4, 10, 0, 1), exitInsn()]).reason).toMatch(/at r10\+0: outside the 512-byte stack/);
    expect(refusal([ldxInsn(4, 0, 10, -6), exitInsn()]).reason).toMatch(/^ldx \(4 bytes\) at r10-6: not aligned to its size 4/);
    expect(refusal([stxInsn(4, 1, -8, 2), exitInsn()]).reason).toMatch(/^stx \(4 bytes\): r1 has no type/);
    const ldsx = makeInsn(Class.LDX | Mode.MEMSX | Size.W, 0, 10, -8, 0);
    expect(refusal([ldsx, exitInsn()]).reason).toMatch(/sign-extending loads/);
    const atomic = makeInsn(Class.STX | Mode.ATOMIC | Size.W, 10, 1, -8, 0);
    expect(refusal([atomic, exitInsn()]).reason).toMatch(/^atomic add \(4 bytes\) on the stack: only on packet or map memory/);
  });

  it('divide, constant shifts out of range, r10 and map references are refused with their reasons', () => {
    expect(refusal([aluInsn(64, 'div', 1, { reg: 2 }), exitInsn()]).reason).toMatch(/^ALU64 div by a register: the card divides only by a constant/);
    expect(refusal([aluInsn(64, 'mov', 0, { imm: 0 }), aluInsn(32, 'lsh', 1, { imm: 32 }), exitInsn()]).message)
      .toMatch(/eBPF instruction 1: 32-bit lsh by 32: out of range/);
    expect(refusal([aluInsn(64, 'add', 1, { reg: 10 }), exitInsn()]).reason)
      .toMatch(/r10 \(the frame pointer\) is lowered only as the base of a stack load or store or in mov64/);
    expect(refusal([stxInsn(8, 10, -8, 10), exitInsn()]).reason).toMatch(/r10 \(the frame pointer\)/);
    expect(refusal([lddwInsn(1, 0n), exitInsn()].map((i, k) => (k === 0 ? { ...i, src: 3 } : i))).reason)
      .toMatch(/pseudo source 3 \(a BTF object or a function\): not offloadable/);
  });

  it('a jump into the middle of an lddw is a bad target', () => {
    const e = refusal([jaInsn(1), lddwInsn(1, 0n), exitInsn()]);
    expect(e.kind).toBe('bad-target');
    expect(e.index).toBe(0);
  });
});

describe('the outro: XDP return code → NFP action code in gprA_0', () => {
  const cases: [string, bigint, number][] = [
    ['XDP_ABORTED', BigInt(XdpAction.ABORTED), NfpAction.EXCEPTION_DROP],
    ['XDP_DROP', BigInt(XdpAction.DROP), NfpAction.DROP],
    ['XDP_PASS', BigInt(XdpAction.PASS), NfpAction.PASS],
    ['XDP_TX', BigInt(XdpAction.TX), NfpAction.TX],
    ['XDP_REDIRECT (not offloadable: as unknown)', BigInt(XdpAction.REDIRECT), NfpAction.EXCEPTION_DROP],
    ['unknown 5', 5n, NfpAction.EXCEPTION_DROP],
    ['unknown 0xffffffff', 0xffffffffn, NfpAction.EXCEPTION_DROP],
    ['high word ignored: 2 + 2^32 passes', (1n << 32n) | 2n, NfpAction.PASS],
  ];
  for (const [name, r0, action] of cases) {
    it(`${name} → 0x${action.toString(16)}`, () => {
      const insns = [lddwInsn(0, r0), exitInsn()];
      const card = runCard(insns, []);
      expect(card.action).toBe(action);
      expect(nfpActionOf(r0)).toBe(action);
      expect(card.regs[0]).toBe(r0);
      expect(runHost(insns, [])[0]).toBe(r0);
    });
  }
  it('the NFP codes are the driver\'s', () => {
    expect([NfpAction.EXCEPTION_DROP, NfpAction.DROP, NfpAction.PASS, NfpAction.TX]).toEqual([0x82, 0x22, 0x11, 0x44]);
  });
});
