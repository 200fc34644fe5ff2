/**
 * Card images to bytes and back (docs/nic-image.md "The image": a protobuf message,
 * schema in image-schema.ts). Decoding is total: bytes that are not a format-1 image
 * — truncated, garbage, a field of the wrong wire type or unknown to the schema, a
 * value out of range — fail with an `ImageError` naming the file and the byte where
 * the problem is; no other exception escapes. Encoding checks the same rules, so an
 * image that encodes decodes back to itself.
 */
import protobuf from 'protobufjs';
import { ImageError, type ImageErrorKind } from './errors.js';
import { checkImage, type ImageField } from './image-check.js';
import { CardImageMessage, RelocKindEnum, type RawImage, type RawReloc, type WireLong } from './image-schema.js';
import { RELOC_KINDS, type CardImage, type RelocKind } from './image-types.js';
import { indexWire, type WireIndex } from './wire-index.js';

export * from './image-types.js';

const U32 = 0xffffffffn;

/** `map-value-lo` ↔ the schema's MAP_VALUE_LO = 4. */
const kindCode = (kind: RelocKind): number => RelocKindEnum.values[kind.toUpperCase().replaceAll('-', '_')] as number;

function kindName(code: number): RelocKind | number {
  const name = RelocKindEnum.valuesById[code]?.toLowerCase().replaceAll('_', '-');
  return RELOC_KINDS.find((k) => k === name) ?? code;
}

const toBigInt = (v: WireLong): bigint =>
  typeof v === 'number' ? BigInt(v) : (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);

const toWire = (w: bigint): { low: number; high: number } => ({ low: Number(w & U32), high: Number((w >> 32n) & U32) });

function toRaw(img: CardImage): RawImage {
  return {
    ...img,
    code: img.code.map(toWire),
    maps: img.maps.map((m) => ({ ...m })),
    relocs: img.relocs.map((r) => ({ ...r, kind: kindCode(r.kind) })),
    source: [...img.source],
    lines: img.lines.map((l) => ({ ...l })),
    files: [...img.files],
  };
}

/** A decoded message as typed values; a relocation kind the schema does not name stays a number (checkImage refuses it). */
function fromRaw(raw: RawImage): CardImage {
  return {
    format: raw.format,
    capsName: raw.capsName,
    capsDigest: raw.capsDigest,
    program: raw.program,
    code: raw.code.map(toBigInt),
    endPc: raw.endPc,
    maps: raw.maps.map((m) => ({
      name: m.name, type: m.type, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, flags: m.flags,
      initial: Uint8Array.from(m.initial),
    })),
    relocs: raw.relocs.map((r: RawReloc) => ({ at: r.at, kind: kindName(r.kind) as RelocKind, target: r.target, offset: r.offset })),
    source: [...raw.source],
    lines: raw.lines.map((l) => ({ ebpfIndex: l.ebpfIndex, file: l.file, line: l.line, column: l.column })),
    files: [...raw.files],
  };
}

/** The image's bytes. An image that breaks the rules of image-check.ts fails with an `ImageError` naming `file`. */
export function encodeImage(img: CardImage, file = '<image>'): Uint8Array {
  checkImage(img, (kind, reason) => {
    throw new ImageError(kind, file, reason);
  });
  return Uint8Array.from(CardImageMessage.encode(toRaw(img)).finish());
}

const reasonOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** The byte a problem with a decoded field is about: the element's (or the field's first) occurrence, else the end. */
function byteOf(wire: WireIndex, field: ImageField, index?: number): number {
  const starts = wire.starts.get(field);
  const perElement = field === 'maps' || field === 'relocs' || field === 'lines';
  return (perElement && index !== undefined ? starts?.[index] : starts?.[0]) ?? wire.end;
}

/** The image in `bytes`; `file` names it in errors. */
export function decodeImage(bytes: Uint8Array, file: string): CardImage {
  const malformed = (reason: string, byte: number): never => {
    throw new ImageError('malformed', file, `not a card image: ${reason}`, { byte });
  };
  if (!(bytes instanceof Uint8Array)) return malformed('not a byte array', 0);
  if (bytes.length === 0) return malformed('the file is empty', 0);
  let reader: protobuf.Reader | undefined;
  let raw: RawImage;
  try {
    reader = protobuf.Reader.create(bytes);
    raw = CardImageMessage.decode(reader) as unknown as RawImage;
  } catch (e) {
    return malformed(reasonOf(e), Math.min(reader?.pos ?? 0, bytes.length));
  }
  const wire = indexWire(bytes, CardImageMessage, malformed);
  const img = fromRaw(raw);
  checkImage(img, (kind: ImageErrorKind, reason, field, index) => {
    throw new ImageError(kind, file, reason, { byte: byteOf(wire, field, index) });
  });
  return img;
}
