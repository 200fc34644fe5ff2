import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { XdpError } from '../../xdp/errors.js';
import { parseElf } from '../../xdp/elf/elf.js';
import { loadObject } from '../../xdp/object/load-object.js';
import { dumpJson } from '../../offload/cli/dump-command.js';
import { fixtureObjects } from '../support/paths.js';

const RUNS_PER_OBJECT = 2000;

/** One way of damaging a file: flip bits, overwrite a word with an edge value, truncate, or splice. */
const mutation = (size: number) =>
  fc.oneof(
    fc.record({ k: fc.constant('flip' as const), at: fc.nat(size - 1), bits: fc.integer({ min: 1, max: 255 }) }),
    fc.record({
      k: fc.constant('word' as const),
      at: fc.nat(size - 1),
      value: fc.constantFrom(0, 1, 0x7f, 0xff, 0xffff, 0x7fffffff, 0xffffffff, 0x80000000, 8, 16, 24, 64),
    }),
    fc.record({ k: fc.constant('truncate' as const), at: fc.nat(size - 1) }),
    fc.record({ k: fc.constant('splice' as const), at: fc.nat(size - 1), len: fc.integer({ min: 1, max: 64 }) }),
  );

type Mutation = { k: 'flip'; at: number; bits: number } | { k: 'word'; at: number; value: number }
  | { k: 'truncate'; at: number } | { k: 'splice'; at: number; len: number };

function apply(bytes: Uint8Array, muts: readonly Mutation[]): Uint8Array {
  let out = bytes.slice();
  for (const m of muts) {
    if (m.at >= out.length) continue;
    if (m.k === 'flip') out[m.at] ^= m.bits;
    else if (m.k === 'word') { if (out.length >= 4) new DataView(out.buffer).setUint32(Math.min(m.at, out.length - 4), m.value, true); }
    else if (m.k === 'truncate') out = out.slice(0, m.at);
    else out = new Uint8Array([...out.subarray(0, m.at), ...out.subarray(m.at + m.len)]);
  }
  return out;
}

/**
 * File offsets the loader actually reads (ELF header, section headers, code, symbols, relocations,
 * BTF, maps, data), so that mutations land there rather than in DWARF, which it skips.
 */
function parsedOffsets(bytes: Uint8Array): number[] {
  const elf = parseElf(bytes, 'original.o');
  const ranges: [number, number][] = [[0, 64]];
  const shoff = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(40, true));
  ranges.push([shoff, elf.sections.length * 64]);
  for (const s of elf.sections) {
    if (/^\.debug|^\.rel\.debug|^\.llvm/.test(s.name) || s.data.length === 0) continue;
    ranges.push([s.offset, s.size]);
  }
  return ranges.flatMap(([start, len]) => Array.from({ length: len }, (_, i) => start + i));
}

describe('loading corrupted objects ends in a typed error, never a crash or a hang', () => {
  for (const path of fixtureObjects()) {
    it(`${basename(path)} × ${RUNS_PER_OBJECT} mutations`, () => {
      const original = new Uint8Array(readFileSync(path));
      const targets = parsedOffsets(original);
      let loaded = 0;
      let refused = 0;
      fc.assert(
        fc.property(fc.array(mutation(original.length), { minLength: 1, maxLength: 4 }), (muts) => {
          const bytes = apply(original, muts.map((m) => ({ ...m, at: targets[m.at % targets.length]! })));
          const started = performance.now();
          try {
            const obj = loadObject(bytes, 'mutant.o');
            dumpJson(obj, {});
            loaded++;
          } catch (e) {
            if (!(e instanceof XdpError)) throw e;
            expect(e.message).toMatch(/^mutant\.o/);
            refused++;
          }
          expect(performance.now() - started).toBeLessThan(2000);
        }),
        { seed: Number(process.env.FUZZ_SEED ?? 0x5eed) + original.length, numRuns: RUNS_PER_OBJECT },
      );
      expect(loaded + refused).toBe(RUNS_PER_OBJECT);
    });
  }
});
