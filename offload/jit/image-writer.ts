/**
 * A translated program as a card image (docs/nic-image.md "The image"): the code
 * encoded, the map table (only the maps the code refers to, in the object's order),
 * the relocations with their map references renumbered into that table, the source
 * map, the eBPF instructions' C lines, and the profile it was built for (name and
 * digest), as the NFP driver hands the firmware a program plus its map table.
 */
import { profileDigest } from '../../caps/profile-digest.js';
import type { CardProfile } from '../../caps/profile.js';
import { IMAGE_FORMAT, type CardImage, type ImageLine, type ImageMap, type Relocation } from '../../nic-sim/image/index.js';
import { encodeInsn, type Insn } from '../../nic-sim/isa/index.js';
import type { MapDef, Program } from '../../xdp/object/bpf-object.js';
import type { CardProgram, CardReloc } from './translate.js';

const refersToMap = (r: CardReloc): boolean => r.kind === 'map-id' || r.kind === 'map-value-lo' || r.kind === 'map-value-hi';

/** The image's map table: the object's maps that relocations name, in object order. */
function mapTable(relocs: readonly CardReloc[], maps: readonly MapDef[]): { table: ImageMap[]; slot: Map<number, number> } {
  const used = [...new Set(relocs.filter(refersToMap).map((r) => r.target))].sort((a, b) => a - b);
  const slot = new Map<number, number>();
  const table = used.map((index, i): ImageMap => {
    const m = maps[index];
    if (!m) throw new Error(`JIT: a relocation names map ${index}, but the object has ${maps.length}`);
    slot.set(index, i);
    return {
      name: m.name, type: m.type, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, flags: m.flags,
      initial: m.initialValue ?? new Uint8Array(0),
    };
  });
  return { table, slot };
}

function sourceLines(program: Program): { lines: ImageLine[]; files: string[] } {
  const files: string[] = [];
  const fileIndex = new Map<string, number>();
  const lines: ImageLine[] = [];
  program.lines.forEach((pos, i) => {
    if (!pos) return;
    let f = fileIndex.get(pos.file);
    if (f === undefined) {
      f = files.push(pos.file) - 1;
      fileIndex.set(pos.file, f);
    }
    lines.push({ ebpfIndex: program.slots[i]!, file: f, line: pos.line, column: pos.col });
  });
  return { lines, files };
}

/** The instruction with the field its relocation fills set to 0, as an image holds it. */
function unpatched(insn: Insn, r: CardReloc): Insn {
  if (r.kind === 'branch' || r.kind === 'helper') return insn.cls === 'br' ? { ...insn, target: 0 } : insn;
  return insn.cls === 'immed' ? { ...insn, value: 0 } : insn;
}

export function buildImage(card: CardProgram, program: Program, maps: readonly MapDef[], profile: CardProfile): CardImage {
  const { table, slot } = mapTable(card.relocs, maps);
  const relocs = card.relocs.map((r): Relocation => (refersToMap(r) ? { ...r, target: slot.get(r.target)! } : { ...r }));
  const insns = [...card.insns];
  for (const r of card.relocs) insns[r.at] = unpatched(insns[r.at]!, r);
  return {
    format: IMAGE_FORMAT,
    capsName: profile.name,
    capsDigest: profileDigest(profile),
    program: program.name,
    code: insns.map((insn, i) => encodeInsn(insn, i)),
    endPc: card.endPc,
    maps: table,
    relocs,
    source: [...card.sourceMap],
    ...sourceLines(program),
  };
}
