/**
 * Fuzzing (fast-check, fixed seeds): mutants of real .BTF and .BTF.ext bytes —
 * bits flipped, bytes and words overwritten, header lengths changed, sections
 * truncated — either parse or throw ObjectFormatError; never another exception,
 * never a hang. Every helper runs over every type of each mutant that parses.
 */

import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ObjectFormatError } from '../../xdp/errors.js';
import {
  findDatasec,
  findVar,
  formatBtfRaw,
  formatDecl,
  formatFuncSignature,
  formatRawType,
  formatType,
  memberByName,
  parseBtf,
  parseBtfExt,
  readBtfMaps,
  readMapDef,
  resolveType,
  sizeOf,
  type Btf,
} from '../../xdp/btf/index.js';
import { PROGRAMS } from './programs.js';
import { cleanupScratch, compile, TOOLS } from './tools.js';
import { everyKindWithExt } from './samples.js';

interface Seed {
  readonly name: string;
  readonly btf: Uint8Array;
  readonly ext: Uint8Array;
  readonly littleEndian: boolean;
}

function seeds(): Seed[] {
  const hand = everyKindWithExt();
  const out: Seed[] = [{ name: 'every-kind', btf: hand.btf, ext: hand.ext, littleEndian: true }];
  if (!TOOLS.clang) {
    console.log('btf-fuzz: clang not found; fuzzing the hand-built sample only');
    return out;
  }
  for (const p of PROGRAMS) {
    for (const target of ['bpfel', 'bpfeb'] as const) {
      const c = compile(p, target);
      out.push({
        name: `${p.name}.${target}`,
        btf: c.sections.get('.BTF')!.slice(),
        ext: c.sections.get('.BTF.ext')!.slice(),
        littleEndian: c.littleEndian,
      });
    }
  }
  return out;
}

const SEEDS = seeds();
afterAll(cleanupScratch);
/** Wall-clock budget for one mutant (parse + every helper); a tripwire for hangs. */
const BUDGET_MS = 2000;

type Mutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'byte'; at: number; value: number }
  | { op: 'word'; at: number; value: number }
  | { op: 'header'; field: number; delta: number }
  | { op: 'truncate'; at: number }
  | { op: 'chop'; count: number };

const INTERESTING = [0, 1, 2, 3, 4, 8, 12, 16, 24, 32, 0x7f, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff];

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('byte' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({
    op: fc.constant('word' as const),
    at: fc.nat(),
    value: fc.oneof(fc.constantFrom(...INTERESTING), fc.nat(), fc.integer({ min: 0, max: 0xffffffff })),
  }),
  // A small value in a word is often a valid type id: references get retargeted
  // (loops through typedefs, pointers, arrays, members) while the section still parses.
  fc.record({ op: fc.constant('word' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 64 }) }),
  fc.record({ op: fc.constant('header' as const), field: fc.integer({ min: 1, max: 7 }), delta: fc.integer({ min: -64, max: 64 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('chop' as const), count: fc.integer({ min: 1, max: 16 }) }),
);

/** Apply mutations to a copy. Word-sized edits land on 4-byte boundaries, where the format's fields are. */
function mutate(original: Uint8Array, littleEndian: boolean, muts: readonly Mutation[]): Uint8Array {
  let bytes = original.slice();
  for (const m of muts) {
    if (bytes.length === 0) break;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    switch (m.op) {
      case 'flip':
        bytes[m.at % bytes.length]! ^= 1 << m.bit;
        break;
      case 'byte':
        bytes[m.at % bytes.length] = m.value;
        break;
      case 'word':
        if (bytes.length >= 4) view.setUint32((m.at % (bytes.length - 3)) & ~3, m.value >>> 0, littleEndian);
        break;
      case 'header': {
        // Header u32 fields at 4, 8, ... 28 (hdr_len, offsets and lengths).
        const at = m.field * 4;
        if (at + 4 <= bytes.length) view.setUint32(at, (view.getUint32(at, littleEndian) + m.delta) >>> 0, littleEndian);
        break;
      }
      case 'truncate':
        bytes = bytes.slice(0, m.at % bytes.length);
        break;
      case 'chop':
        bytes = bytes.slice(0, Math.max(0, bytes.length - m.count));
        break;
    }
  }
  return bytes;
}

/** Helper calls that ended in an ObjectFormatError (cycles, sizeless types, bad map shapes...). */
let helperRefusals = 0;

/** Run `f`; an ObjectFormatError is an acceptable outcome, anything else is rethrown. */
function tolerate<T>(f: () => T): T | ObjectFormatError {
  try {
    return f();
  } catch (e) {
    if (e instanceof ObjectFormatError) {
      helperRefusals++;
      return e;
    }
    throw e;
  }
}

/** Every helper over every type of `btf`. */
function exerciseHelpers(btf: Btf): void {
  tolerate(() => formatBtfRaw(btf));
  tolerate(() => readBtfMaps(btf));
  for (const t of btf.types) {
    const id = t.id;
    tolerate(() => resolveType(btf, id));
    tolerate(() => sizeOf(btf, id));
    tolerate(() => formatType(btf, id));
    tolerate(() => formatDecl(btf, id, 'x'));
    tolerate(() => formatRawType(btf, id));
    switch (t.kind) {
      case 'STRUCT':
      case 'UNION':
        tolerate(() => memberByName(btf, id, t.members[0]?.name ?? 'a'));
        tolerate(() => memberByName(btf, id, '\u0000none'));
        tolerate(() => readMapDef(btf, id));
        break;
      case 'FUNC':
        tolerate(() => formatFuncSignature(btf, id));
        break;
      case 'VAR':
        tolerate(() => readMapDef(btf, id));
        tolerate(() => findVar(btf, t.name));
        break;
      case 'DATASEC':
        tolerate(() => findDatasec(btf, t.name));
        for (const v of t.vars) {
          const vt = btf.types[v.type];
          if (vt) tolerate(() => findVar(btf, vt.name, t.name));
        }
        break;
      default:
        break;
    }
  }
}

describe('fuzzing .BTF and .BTF.ext (fixed seeds)', () => {
  it('every seed parses cleanly before mutation', () => {
    for (const s of SEEDS) {
      const btf = parseBtf(s.btf, { littleEndian: s.littleEndian });
      parseBtfExt(s.ext, btf);
      exerciseHelpers(btf);
    }
  });

  it('mutated .BTF: parse succeeds or throws ObjectFormatError; helpers likewise (3,000 mutants)', () => {
    const stats = { parsed: 0, refused: 0, helperRuns: 0 };
    helperRefusals = 0;
    fc.assert(
      fc.property(fc.nat(SEEDS.length - 1), fc.array(mutation, { minLength: 1, maxLength: 4 }), (seedIndex, muts) => {
        const seed = SEEDS[seedIndex]!;
        const bytes = mutate(seed.btf, seed.littleEndian, muts);
        const started = performance.now();
        let btf: Btf | ObjectFormatError;
        try {
          btf = parseBtf(bytes, { file: 'fuzz.o' });
        } catch (e) {
          if (!(e instanceof ObjectFormatError)) throw e;
          btf = e;
        }
        if (btf instanceof ObjectFormatError) {
          stats.refused++;
          expect(btf.location.section).toBe('.BTF');
          expect(btf.location.offset).toBeGreaterThanOrEqual(0);
        } else {
          stats.parsed++;
          exerciseHelpers(btf);
          stats.helperRuns++;
          // The original .BTF.ext against the mutant's types and strings.
          tolerate(() => parseBtfExt(seed.ext, btf));
        }
        expect(performance.now() - started).toBeLessThan(BUDGET_MS);
      }),
      { seed: 0x5eedb7f, numRuns: 3000, endOnFailure: true },
    );
    console.log(
      `btf-fuzz .BTF: ${stats.parsed} mutants parsed (helpers run on each, ${helperRefusals} helper calls refused), ${stats.refused} refused`,
    );
    expect(stats.parsed).toBeGreaterThan(300);
    expect(stats.refused).toBeGreaterThan(300);
    expect(helperRefusals).toBeGreaterThan(0);
  });

  it('mutated .BTF.ext: parse succeeds or throws ObjectFormatError (2,500 mutants)', () => {
    const parsedBtf = SEEDS.map((s) => parseBtf(s.btf, { littleEndian: s.littleEndian }));
    const stats = { parsed: 0, refused: 0 };
    fc.assert(
      fc.property(fc.nat(SEEDS.length - 1), fc.array(mutation, { minLength: 1, maxLength: 4 }), (seedIndex, muts) => {
        const seed = SEEDS[seedIndex]!;
        const bytes = mutate(seed.ext, seed.littleEndian, muts);
        const started = performance.now();
        let ext: ReturnType<typeof parseBtfExt> | ObjectFormatError;
        try {
          ext = parseBtfExt(bytes, parsedBtf[seedIndex]!, { file: 'fuzz.o' });
        } catch (e) {
          if (!(e instanceof ObjectFormatError)) throw e;
          ext = e;
        }
        if (ext instanceof ObjectFormatError) {
          stats.refused++;
          expect(ext.location.section).toBe('.BTF.ext');
          expect(ext.location.offset).toBeGreaterThanOrEqual(0);
        } else {
          stats.parsed++;
        }
        expect(performance.now() - started).toBeLessThan(BUDGET_MS);
      }),
      { seed: 0xb7fe47, numRuns: 2500, endOnFailure: true },
    );
    console.log(`btf-fuzz .BTF.ext: ${stats.parsed} mutants parsed, ${stats.refused} refused`);
    expect(stats.parsed).toBeGreaterThan(100);
    expect(stats.refused).toBeGreaterThan(100);
  });
});
