/**
 * nic-sim/image/load-image.ts: an image loads only on the card it was built for and
 * within its size, its words decode, and every relocation kind patches exactly its
 * field — or the load fails with an ImageError of the right kind naming the
 * relocation (or instruction) and why.
 */
import { describe, expect, it } from 'vitest';
import { profileDigest } from '../../caps/profile-digest.js';
import type { CardProfile } from '../../caps/profile.js';
import { ImageError, type ImageErrorKind } from '../../nic-sim/image/errors.js';
import { decodeImage, encodeImage, type CardImage, type Relocation } from '../../nic-sim/image/image.js';
import { loadImage, type LoadOptions } from '../../nic-sim/image/load-image.js';
import { assembleWords } from '../../nic-sim/isa/assembler.js';
import { decodeProgram } from '../../nic-sim/isa/decode.js';
import type { Insn } from '../../nic-sim/isa/instructions.js';
import { AT, MINIMAL, NFP, sampleImage } from './sample.js';

const MAP_IDS = [7, 0x1234];
const VALUE_AT = [64, 0x1fff8];
const OPTS: LoadOptions = { file: 'prog.img', mapIds: MAP_IDS, mapValueAddress: (i) => VALUE_AT[i] as number };

function loadError(img: CardImage, profile: CardProfile = NFP, opts: Partial<LoadOptions> = {}): ImageError {
  try {
    loadImage(img, profile, { ...OPTS, ...opts });
  } catch (e) {
    if (!(e instanceof ImageError)) throw e;
    return e;
  }
  throw new Error('loaded');
}

/** A profile changed in one place, and the sample image built for it. */
function variant(change: Partial<CardProfile>): { profile: CardProfile; img: CardImage } {
  const profile = { ...NFP, ...change };
  return { profile, img: { ...sampleImage(), capsDigest: profileDigest(profile) } };
}

describe('relocation', () => {
  it.each([0, 100])('patches every kind for a load at base %i, and nothing else', (base) => {
    const img = sampleImage();
    const loaded = loadImage(decodeImage(encodeImage(img), 'prog.img'), NFP, { ...OPTS, base });
    const plain = decodeProgram(img.code);
    const value = 0x1fff8 + 8; // map 1's value 0, plus the relocation's offset: 0x20000
    const expected: Insn[] = plain.map((insn, i) => {
      switch (i) {
        case AT.mapId: return { ...insn, value: 7 } as Insn;
        case AT.valueLo: return { ...insn, value: value & 0xffff } as Insn;
        case AT.valueHi: return { ...insn, value: value >>> 16 } as Insn;
        case AT.call: return { ...insn, target: 12288 } as Insn; // bpf_map_lookup_elem's FUNC address in nfp-4000
        case AT.ret: return { ...insn, value: base + 6 } as Insn;
        case AT.beq: return { ...insn, target: base + 8 } as Insn;
        default: return insn;
      }
    });
    expect(loaded.insns).toEqual(expected);
    expect(loaded.insns[AT.valueHi]).toMatchObject({ cls: 'immed', width: 'word', shift: 2, value: 2 });
    expect(loaded.insns[AT.valueLo]).toMatchObject({ cls: 'immed', width: 'all', shift: 0, value: 0 });
    expect(loaded).toMatchObject({ endPc: base + 8, base, source: img.source });
  });

  it('splits a map value address into its 16-bit halves', () => {
    const loaded = loadImage(sampleImage(), NFP, { ...OPTS, mapValueAddress: () => 0xabcd1230 });
    expect(loaded.insns[AT.valueLo]).toMatchObject({ value: 0x1238 });
    expect(loaded.insns[AT.valueHi]).toMatchObject({ value: 0xabcd });
  });

  it('patches br=byte and br_bset targets as branches', () => {
    const code = assembleWords(`br=byte[gprA_1, 0, 0x11, .0]\nbr_bclr[gprA_2, 3, .0]\n${'nop\n'.repeat(8)}`);
    const img: CardImage = {
      ...sampleImage(), code, source: code.map(() => -1), endPc: 2, relocs: [
        { at: 0, kind: 'branch', target: 2, offset: 0 },
        { at: 1, kind: 'branch', target: 9, offset: 0 },
      ],
    };
    const { insns } = loadImage(img, NFP, { ...OPTS, base: 40 });
    expect(insns[0]).toMatchObject({ cls: 'br_byte', target: 42 });
    expect(insns[1]).toMatchObject({ cls: 'br_bit', target: 49 });
  });
});

describe('refusals', () => {
  it('refuses another card, naming both', () => {
    const e = loadError(sampleImage(), MINIMAL);
    expect(e.kind).toBe('caps');
    expect(e.offset).toBeUndefined();
    expect(e.message).toBe("prog.img: image built for card 'nfp-4000', loaded on card 'minimal'");
  });

  it('refuses another version of the same card, naming both digests', () => {
    const changed = { ...NFP, maxInsns: 4096 };
    const e = loadError(sampleImage(), changed);
    expect(e.kind).toBe('caps');
    expect(e.message).toContain("another version of card 'nfp-4000'");
    expect(e.message).toContain(profileDigest(NFP));
    expect(e.message).toContain(profileDigest(changed));
  });

  it('refuses code longer than the profile allows', () => {
    const { profile, img } = variant({ maxInsns: 10 });
    const e = loadError(img, profile);
    expect(e.kind).toBe('too-long');
    expect(e.message).toBe('prog.img: program too long: 16 card instructions (limit 10)');
    expect(() => loadImage(img, { ...profile, maxInsns: 16 }, OPTS)).toThrow(/another version/);
    expect(loadImage(variant({ maxInsns: 16 }).img, variant({ maxInsns: 16 }).profile, OPTS).insns).toHaveLength(16);
  });

  it('refuses a load that would run past the instruction store', () => {
    expect(loadError(sampleImage(), NFP, { base: 0x3ff8 }).message).toBe(
      'prog.img: 16 instructions at base 16376 end past the instruction store (16384 instructions)');
    expect(loadError(sampleImage(), NFP, { base: -1 }).kind).toBe('too-long');
    expect(loadImage(sampleImage(), NFP, { ...OPTS, base: 0x3ff0 }).insns[AT.beq]).toMatchObject({ target: 0x3ff8 });
  });

  it('refuses a load whose code would cover a firmware routine', () => {
    expect(loadError(sampleImage(), NFP, { base: 0x3000 - 4 }).message).toBe(
      'prog.img: 16 instructions at base 12284 cover the firmware routine of bpf_map_lookup_elem at 12288');
  });

  it('refuses an undecodable word, naming the instruction and its byte in the code', () => {
    const img = sampleImage();
    const e = loadError({ ...img, code: img.code.map((w, i) => (i === 7 ? w | (1n << 50n) : w)) });
    expect(e.kind).toBe('malformed');
    expect(e.offset).toBe(56);
    expect(e.message).toMatch(/^prog\.img: instruction 7 \(code byte 0x38\): not a card instruction: bits 45\.\.63 are set/);
  });

  it('refuses a hand-built image that breaks the image rules', () => {
    const e = loadError({ ...sampleImage(), source: [] });
    expect(e.kind).toBe('malformed');
    expect(e.message).toBe('prog.img: source has 0 entries for 16 code words');
  });

  const reloc = (at: number, kind: Relocation['kind'], target: number, offset = 0): Relocation => ({ at, kind, target, offset });

  it.each<[string, Relocation, ImageErrorKind, string]>([
    ['at outside the code', reloc(16, 'branch', 0), 'reloc', 'branch: at 16 is outside the code (16 instructions)'],
    ['a branch at an immed', reloc(AT.mapId, 'branch', 0), 'reloc', 'branch: needs a branch (br*, br=byte, br!=byte, br_bset, br_bclr), not immed[gprA_0, 0]'],
    ['a branch at an alu', reloc(AT.plain, 'branch', 0), 'reloc', 'branch: needs a branch'],
    ['a helper at a conditional branch', reloc(AT.beq, 'helper', 1), 'reloc', 'helper: needs an unconditional br, not beq[.0]'],
    ['a map id at a branch', reloc(AT.call, 'map-id', 0), 'reloc', 'map-id: needs immed[dst, 0], not br[.0], defer[2]'],
    ['a high half at a full-width immed', reloc(AT.valueLo, 'map-value-hi', 1), 'reloc', 'map-value-hi: needs immed_w[dst, 0, <<16], not immed[gprA_4, 0]'],
    ['a low half at immed_w', reloc(AT.valueHi, 'map-value-lo', 1), 'reloc', 'map-value-lo: needs immed[dst, 0], not immed_w[gprA_4, 0, <<16]'],
    ['a branch target outside the image', reloc(AT.beq, 'branch', 16), 'reloc', 'branch: target 16 is outside the image (16 instructions)'],
    ['a return address outside the image', reloc(AT.ret, 'immed-addr', 99), 'reloc', 'immed-addr: target 99 is outside the image (16 instructions)'],
    ['a helper the card lacks', reloc(AT.call, 'helper', 5), 'reloc', "helper: helper 5 is not implemented by card 'nfp-4000'"],
    ['a helper without a firmware address', reloc(AT.call, 'helper', 7), 'reloc', "helper: helper 7 (bpf_get_prandom_u32) has no firmware address on card 'nfp-4000'"],
    ['a map id for a map not in the table', reloc(AT.mapId, 'map-id', 2), 'map', 'map-id: map 2 is outside the map table (2 maps)'],
    ['a map value of a map not in the table', reloc(AT.valueLo, 'map-value-lo', 5), 'map', 'map-value-lo: map 5 is outside the map table (2 maps)'],
  ])('refuses %s', (_what, bad, kind, reason) => {
    const img = sampleImage();
    const relocs = img.relocs.filter((r) => r.at !== bad.at);
    const e = loadError({ ...img, relocs: [...relocs, bad] });
    expect(e.kind).toBe(kind);
    expect(e.offset).toBe(relocs.length);
    expect(e.message).toContain(`prog.img: relocation ${relocs.length} (at ${bad.at}): ${reason}`);
  });

  it('refuses a field that is not 0 (a second relocation of the same instruction)', () => {
    const img = sampleImage();
    const e = loadError({ ...img, relocs: [...img.relocs, reloc(AT.beq, 'branch', 3)] });
    expect(e.kind).toBe('reloc');
    expect(e.offset).toBe(6);
    expect(e.message).toBe('prog.img: relocation 6 (at 6): branch: the branch target it fills is 8, not 0');
    const e2 = loadError({ ...img, relocs: [...img.relocs, reloc(AT.mapId, 'map-id', 1)] });
    expect(e2.message).toBe('prog.img: relocation 6 (at 0): map-id: the immed value it fills is 0x7, not 0');
  });

  it('refuses map ids and addresses that do not fit', () => {
    const missing = loadError(sampleImage(), NFP, { mapIds: [] });
    expect(missing.kind).toBe('map');
    expect(missing.message).toBe('prog.img: relocation 0 (at 0): map-id: map 0 (counters) has no table id (0 given)');
    const tooBig = loadError(sampleImage(), NFP, { mapIds: [0x10000, 1] });
    expect(tooBig.kind).toBe('reloc');
    expect(tooBig.message).toContain('table id 65536 of map 0 (counters) does not fit 16 bits');
    const far = loadError(sampleImage(), NFP, { mapValueAddress: () => 0xfffffffc });
    expect(far.kind).toBe('reloc');
    expect(far.message).toBe('prog.img: relocation 1 (at 1): map-value-lo: value address 4294967300 of map 1 (.rodata) + 8 does not fit 32 bits');
  });

  it('refuses a helper address above the instruction store', () => {
    const helpers = NFP.helpers.map((h) => (h.id === 1 ? { ...h, address: 0x4000 } : h));
    const { profile, img } = variant({ helpers });
    const e = loadError(img, profile);
    expect(e.kind).toBe('reloc');
    expect(e.message).toBe('prog.img: relocation 3 (at 3): helper: helper 1 (bpf_map_lookup_elem) is at 0x4000, above 0x3fff');
  });
});
