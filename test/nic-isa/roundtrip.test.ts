/**
 * Round trips over every instruction class with random valid instructions:
 * encode → decode is the identity; decode → disasm → assemble → encode gives the same
 * word; and random words either decode to an instruction that encodes back to the
 * very same word, or fail with a decode IsaError naming the word.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../nic-sim/isa/assembler.js';
import { decodeWord } from '../../nic-sim/isa/decode.js';
import { disasmInsn } from '../../nic-sim/isa/disasm.js';
import { encodeInsn } from '../../nic-sim/isa/encode.js';
import { IsaError } from '../../nic-sim/isa/errors.js';
import { LAYOUTS, OP_MASK, usedBits, type LayoutName } from '../../nic-sim/isa/fields.js';
import type { Insn } from '../../nic-sim/isa/instructions.js';
import { ARBS, anyInsn } from './arbitraries.js';

const RUNS = 2000;
/** Fixed so that runs repeat; ISA_SEED=<n> explores other inputs. */
const SEED = Number(process.env.ISA_SEED ?? 0x11c0de);

const classes = Object.keys(ARBS) as Insn['cls'][];

describe.each(classes)('%s', (cls) => {
  const arb = ARBS[cls] as fc.Arbitrary<Insn>;

  it('encode → decode gives the same instruction', () => {
    fc.assert(
      fc.property(arb, (insn) => {
        const word = encodeInsn(insn);
        expect(word >> 45n).toBe(0n);
        expect(decodeWord(word)).toEqual(insn);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it('decode → disasm → assemble → encode gives the same word', () => {
    fc.assert(
      fc.property(arb, (insn) => {
        const word = encodeInsn(insn);
        const text = disasmInsn(decodeWord(word, 7));
        const back = assemble(text);
        expect(back).toHaveLength(1);
        expect(back[0]).toEqual(insn);
        expect(encodeInsn(back[0] as Insn)).toBe(word);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });
});

/** A word with the class's identifying bits and random bits in its fields (and sometimes outside them). */
const wordIn = (name: LayoutName): fc.Arbitrary<bigint> =>
  fc.record({ r: fc.bigInt({ min: 0n, max: OP_MASK }), stray: fc.integer({ min: 0, max: 15 }) }).map(({ r, stray }) => {
    const layout = LAYOUTS[name];
    const inFields = r & usedBits(layout) & ~layout.ident.mask;
    const outside = stray === 0 ? r & OP_MASK & ~usedBits(layout) : 0n;
    return layout.ident.value | inFields | outside;
  });

/** A valid instruction's word with 0..2 of its 45 opcode bits flipped: words on the edge of validity. */
const mutated = (cls: Insn['cls']): fc.Arbitrary<bigint> =>
  fc
    .record({ insn: ARBS[cls] as fc.Arbitrary<Insn>, flips: fc.array(fc.integer({ min: 0, max: 44 }), { maxLength: 2 }) })
    .map(({ insn, flips }) => flips.reduce((w, bit) => w ^ (1n << BigInt(bit)), encodeInsn(insn)));

function decodesBackOrFails(word: bigint, index: number): 'ok' | 'refused' {
  let insn: Insn;
  try {
    insn = decodeWord(word, index);
  } catch (e) {
    expect(e).toBeInstanceOf(IsaError);
    expect((e as IsaError).kind).toBe('decode');
    expect((e as IsaError).word).toBe(index);
    expect((e as IsaError).message).toMatch(new RegExp(`^word ${index} \\(0x[0-9a-f]+\\): `));
    return 'refused';
  }
  expect(encodeInsn(insn)).toBe(word);
  return 'ok';
}

describe('random words', () => {
  it.each(Object.keys(LAYOUTS) as LayoutName[])('%s-shaped and mutated words decode to themselves or fail naming the word', (name) => {
    const seen = { ok: 0, refused: 0 };
    fc.assert(
      fc.property(name === 'carb' ? wordIn(name) : fc.oneof(wordIn(name), mutated(name)), fc.nat(100_000), (word, index) => {
        seen[decodesBackOrFails(word, index)]++;
      }),
      { numRuns: RUNS, seed: SEED },
    );
    // Each class (but CARB, which is refused) accepts some random words and refuses others.
    if (name === 'carb') expect(seen.ok).toBe(0);
    else expect(seen.ok).toBeGreaterThan(0);
    expect(seen.refused).toBeGreaterThan(0);
  });

  it('any 64-bit word decodes to itself or fails naming the word', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.nat(100_000), (word, index) => {
        decodesBackOrFails(word, index);
        decodesBackOrFails(word & OP_MASK, index);
      }),
      { numRuns: RUNS * 5, seed: SEED },
    );
  });

  it('every valid instruction survives a whole program round trip', () => {
    fc.assert(
      fc.property(fc.array(anyInsn, { minLength: 1, maxLength: 40 }), (insns) => {
        const text = insns.map((i) => disasmInsn(i)).join('\n');
        expect(assemble(text)).toEqual(insns);
      }),
      { numRuns: 200, seed: SEED },
    );
  });
});
