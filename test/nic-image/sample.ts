/**
 * A small card image for the image tests: real code words from the card assembler
 * with one relocation of every kind, the way the JIT lays out a map lookup
 * (docs/nic-image.md "Helper calls"), two maps, line entries and the 8-nop pad.
 */
import { profileDigest } from '../../caps/profile-digest.js';
import { resolveProfile } from '../../caps/load-profile.js';
import type { CardProfile } from '../../caps/profile.js';
import { IMAGE_FORMAT, type CardImage } from '../../nic-sim/image/image.js';
import { assembleWords } from '../../nic-sim/isa/assembler.js';

export const NFP = resolveProfile('nfp-4000').profile;
export const MINIMAL = resolveProfile('minimal').profile;

export const SAMPLE_ASM = `
  immed[gprA_0, 0]               ; 0  map-id: map 0
  immed[gprA_4, 0]               ; 1  map-value-lo: map 1 + 8
  immed_w[gprA_4, 0, <<16]       ; 2  map-value-hi: map 1 + 8
  br[.0], defer[2]               ; 3  helper 1 (bpf_map_lookup_elem)
  alu[gprA_1, --, B, gprB_2]     ; 4
  immed[gprB_0, 0]               ; 5  immed-addr: 6
  beq[.0]                        ; 6  branch: 8
  alu[gprA_1, --, B, gprB_3]     ; 7
  nop
  nop
  nop
  nop
  nop
  nop
  nop
  nop
`;

/** Instruction indices of the sample's relocated instructions. */
export const AT = { mapId: 0, valueLo: 1, valueHi: 2, call: 3, ret: 5, beq: 6, plain: 7 } as const;

export function sampleImage(profile: CardProfile = NFP): CardImage {
  const code = assembleWords(SAMPLE_ASM);
  return {
    format: IMAGE_FORMAT,
    capsName: profile.name,
    capsDigest: profileDigest(profile),
    program: 'xdp_count',
    code,
    endPc: 8,
    maps: [
      { name: 'counters', type: 2, keySize: 4, valueSize: 8, maxEntries: 4, flags: 0, initial: new Uint8Array() },
      { name: '.rodata', type: 2, keySize: 4, valueSize: 16, maxEntries: 1, flags: 0x80, initial: Uint8Array.from({ length: 16 }, (_, i) => i * 7) },
    ],
    relocs: [
      { at: AT.mapId, kind: 'map-id', target: 0, offset: 0 },
      { at: AT.valueLo, kind: 'map-value-lo', target: 1, offset: 8 },
      { at: AT.valueHi, kind: 'map-value-hi', target: 1, offset: 8 },
      { at: AT.call, kind: 'helper', target: 1, offset: 0 },
      { at: AT.ret, kind: 'immed-addr', target: 6, offset: 0 },
      { at: AT.beq, kind: 'branch', target: 8, offset: 0 },
    ],
    source: [-1, 0, 0, 1, 1, 1, 2, 3, -1, -1, -1, -1, -1, -1, -1, -1],
    lines: [
      { ebpfIndex: 0, file: 0, line: 12, column: 5 },
      { ebpfIndex: 2, file: 1, line: 3, column: 1 },
    ],
    files: ['xdp_count.c', 'common.h'],
  };
}
