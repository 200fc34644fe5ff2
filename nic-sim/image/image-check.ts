/**
 * What a card image must be before anything looks at its code (docs/nic-image.md
 * "The image"): format 1, one `source` entry per code word (an eBPF instruction
 * index, or −1 for prologue, outro and pad), `end_pc` followed by at least the
 * 8-instruction prefetch pad (docs/nic-isa.md, NFP_USTORE_PREFETCH_WINDOW), every number
 * within its protobuf field's range, known relocation kinds, line entries naming
 * a listed file, initial map contents no larger than the map. Relocation targets
 * are the loader's business (load-image.ts): they depend on the card.
 */
import { USTORE_PREFETCH_WINDOW } from '../isa/fields.js';
import { IMAGE_FORMAT, RELOC_KINDS, type CardImage } from './image-types.js';
import type { ImageErrorKind } from './errors.js';

/** The fields a problem can be about (the JavaScript names of the schema's CardImage fields). */
export type ImageField = keyof CardImage;

/** Reports the first problem: which field (and element of a repeated field) it is about. */
export type CheckFail = (kind: ImageErrorKind, reason: string, field: ImageField, index?: number) => never;

const U32_MAX = 0xffffffff;
const WORD_MAX = (1n << 64n) - 1n;
const isU32 = (n: unknown): boolean => Number.isInteger(n) && (n as number) >= 0 && (n as number) <= U32_MAX;
const DIGEST = /^[0-9a-f]{64}$/;

function checkScalars(img: CardImage, fail: CheckFail): void {
  if (img.format !== IMAGE_FORMAT) fail('format', `image format ${String(img.format)}; this loader reads format ${IMAGE_FORMAT}`, 'format');
  if (!DIGEST.test(img.capsDigest)) fail('malformed', `caps_digest '${img.capsDigest}' is not a SHA-256 in hex`, 'capsDigest');
  img.code.forEach((w, i) => {
    if (typeof w !== 'bigint' || w < 0n || w > WORD_MAX) fail('malformed', `code word ${i} is not a 64-bit word`, 'code');
  });
  if (img.source.length !== img.code.length) {
    fail('malformed', `source has ${img.source.length} entries for ${img.code.length} code words`, 'source');
  }
  img.source.forEach((s, i) => {
    if (!Number.isInteger(s) || s < -1 || s > 0x7fffffff) fail('malformed', `source[${i}] is ${s}: an eBPF instruction index or -1`, 'source');
  });
  if (!isU32(img.endPc) || img.endPc + USTORE_PREFETCH_WINDOW > img.code.length) {
    const room = `the ${USTORE_PREFETCH_WINDOW}-instruction prefetch pad`;
    fail('malformed', `end_pc ${img.endPc} leaves no room for ${room} in ${img.code.length} instructions`, 'endPc');
  }
}

function checkTables(img: CardImage, fail: CheckFail): void {
  img.maps.forEach((m, i) => {
    for (const f of ['type', 'keySize', 'valueSize', 'maxEntries', 'flags'] as const) {
      if (!isU32(m[f])) fail('map', `map ${i} (${m.name}): ${f} ${m[f]} is not a 32-bit unsigned number`, 'maps', i);
    }
    if (m.initial.length > m.valueSize * m.maxEntries) {
      fail('map', `map ${i} (${m.name}): ${m.initial.length} bytes of initial contents, but it holds ${m.maxEntries} × ${m.valueSize}`, 'maps', i);
    }
  });
  img.relocs.forEach((r, i) => {
    if (!RELOC_KINDS.includes(r.kind)) fail('reloc', `relocation ${i} has an unknown kind ${String(r.kind)}`, 'relocs', i);
    for (const f of ['at', 'target', 'offset'] as const) {
      if (!isU32(r[f])) fail('reloc', `relocation ${i}: ${f} ${r[f]} is not a 32-bit unsigned number`, 'relocs', i);
    }
  });
  img.lines.forEach((l, i) => {
    for (const f of ['ebpfIndex', 'file', 'line', 'column'] as const) {
      if (!isU32(l[f])) fail('malformed', `line entry ${i}: ${f} ${l[f]} is not a 32-bit unsigned number`, 'lines', i);
    }
    if (l.file >= img.files.length) fail('malformed', `line entry ${i} names file ${l.file}, but the image lists ${img.files.length}`, 'lines', i);
  });
}

/** Checks `img`; the first problem goes to `fail`. */
export function checkImage(img: CardImage, fail: CheckFail): void {
  checkScalars(img, fail);
  checkTables(img, fail);
}
