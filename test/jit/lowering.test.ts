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
import { aluInsn, exitInsn, jaInsn, jmpInsn, lddwInsn, runCard, runHost } from './harness.js';

const jit = (insns: readonly Insn[]) => translate(recordsFromInsns(insns));
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

  it('a 64-bit jeq against an immediate: XOR each word, OR them, beq', () => {
    expect(body([jmpInsn(64, 'jeq', 1, { imm: 0x1ff }, 1), exitInsn(), exitInsn()])).toEqual([
      'immed[gprB_21, 0x1ff]',
      'alu[gprB_20, gprA_2, XOR, gprB_21]',
      'alu[gprA_20, gprA_3, XOR, 0]',
      'alu[--, gprA_20, OR, gprB_20]',
      'beq[.6]',
      'br[.7]',
      'br[.7]',
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
  it('a memory load after an lddw is refused at index 2', () => {
    const ldx = makeInsn(Class.LDX | Mode.MEM | Size.W, 0, 1, 0, 0);
    const e = refusal([lddwInsn(1, 5n), ldx, exitInsn()]);
    expect(e.kind).toBe('unsupported');
    expect(e.index).toBe(2);
    expect(e.message).toMatch(/^insn 2: eBPF instruction 2: ldx: memory loads are not lowered yet/);
  });

  it('multiply, register shifts, r10 and map references are refused with their reasons', () => {
    expect(refusal([aluInsn(64, 'mul', 1, { reg: 2 }), exitInsn()]).reason).toMatch(/ALU64 mul: multiply/);
    expect(refusal([aluInsn(64, 'mov', 0, { imm: 0 }), aluInsn(32, 'lsh', 1, { reg: 2 }), exitInsn()]).message)
      .toMatch(/eBPF instruction 1: 32-bit lsh by a register/);
    expect(refusal([aluInsn(64, 'mov', 1, { reg: 10 }), exitInsn()]).reason).toMatch(/r10 \(the frame pointer\)/);
    expect(refusal([lddwInsn(1, 0n), exitInsn()].map((i, k) => (k === 0 ? { ...i, src: 1 } : i))).reason)
      .toMatch(/map reference/);
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
