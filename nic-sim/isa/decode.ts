/**
 * Words to instructions. A word decodes to exactly one instruction or fails with an
 * `IsaError` (kind 'decode') naming the word's index, its value and the reason: bits
 * above the 45-bit opcode part, opcode bits no class has, CARB (not in this machine),
 * a bit set outside the class's fields, or a field value this project does not assign.
 */
import { CLASS_TITLE, CODECS } from './codecs.js';
import { IsaError, type Fail } from './errors.js';
import { LAYOUTS, OP_MASK, classOf, usedBits } from './fields.js';
import type { Insn } from './instructions.js';

const WORD_MAX = (1n << 64n) - 1n;

export function decodeWord(word: bigint, index = 0): Insn {
  const fail: Fail = (reason) => {
    throw new IsaError('decode', reason, { word: index, value: word });
  };
  if (typeof word !== 'bigint' || word < 0n || word > WORD_MAX) fail('not a 64-bit word');
  const high = word & ~OP_MASK;
  if (high) fail(`bits 45..63 are set (0x${high.toString(16)}): this project stores no ECC bits`);
  const name = classOf(word);
  if (name === undefined) fail('no instruction class has these opcode bits');
  if (name === 'carb') return fail("CARB (context arbitration) is not part of this project's instruction set");
  const stray = word & ~usedBits(LAYOUTS[name]) & OP_MASK;
  if (stray) fail(`bits 0x${stray.toString(16)} are outside every ${CLASS_TITLE[name]} field and must be zero`);
  return CODECS[name].decode(word, fail);
}

/** A whole image; the first bad word throws. */
export const decodeProgram = (words: readonly bigint[]): Insn[] => words.map((w, i) => decodeWord(w, i));
