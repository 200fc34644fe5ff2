/**
 * A strict second look at an image's bytes (docs/nic-image.md: the loader refuses a
 * malformed message, naming the byte offset). protobufjs treats a field whose wire
 * type does not match the schema — and a field the schema does not have — as an
 * unknown field and skips it; a card image of format 1 may contain neither. Walking
 * the tags also records where each top-level field occurs, so that problems found
 * after decoding can name a byte of the file.
 */
import protobuf from 'protobufjs';

/** Where the top-level fields of a decoded image are in its bytes. */
export interface WireIndex {
  /** Byte offset of each occurrence of a top-level field, by its JavaScript name (`endPc`). */
  readonly starts: ReadonlyMap<string, readonly number[]>;
  /** Length of the message. */
  readonly end: number;
}

export type WireFail = (reason: string, byte: number) => never;

/** A problem the walk found, thrown up to `indexWire` (which alone talks to the caller's `fail`). */
class WireProblem {
  constructor(readonly reason: string, readonly byte: number) {}
}

const WIRE_NAMES = ['varint', '64-bit', 'length-delimited', 'group start', 'group end', '32-bit', '6', '7'];
const BASIC = protobuf.types.basic as Readonly<Record<string, number>>;
const PACKED = protobuf.types.packed as Readonly<Record<string, number>>;

/** Wire types a field may arrive in: its own, and length-delimited for a packable repeated scalar. */
function wireTypesOf(field: protobuf.Field): number[] {
  if (field.resolvedType instanceof protobuf.Type) return [2];
  const type = field.resolvedType instanceof protobuf.Enum ? 'int32' : field.type;
  const own = BASIC[type] ?? 2;
  return field.repeated && PACKED[type] !== undefined ? [own, 2] : [own];
}

function walk(r: protobuf.Reader, end: number, type: protobuf.Type, starts?: Map<string, number[]>): void {
  while (r.pos < end) {
    const at = r.pos;
    const tag = r.uint32();
    const id = tag >>> 3;
    const wire = tag & 7;
    const field = type.fieldsById[id];
    if (field === undefined) throw new WireProblem(`field ${id} is not part of a ${type.name} message`, at);
    const expected = wireTypesOf(field);
    if (!expected.includes(wire)) {
      const want = expected.map((w) => WIRE_NAMES[w]).join(' or ');
      throw new WireProblem(`${type.name}.${field.name} (field ${id}) has wire type ${WIRE_NAMES[wire]}, not ${want}`, at);
    }
    if (starts) {
      const list = starts.get(field.name) ?? [];
      list.push(at);
      starts.set(field.name, list);
    }
    if (field.resolvedType instanceof protobuf.Type) {
      const length = r.uint32();
      walk(r, r.pos + length, field.resolvedType);
    } else r.skipType(wire);
  }
}

/**
 * Checks every field's number and wire type, in `type` and the messages it holds;
 * the first bad one fails with its byte offset. The bytes must already have decoded.
 */
export function indexWire(bytes: Uint8Array, type: protobuf.Type, fail: WireFail): WireIndex {
  const reader = protobuf.Reader.create(bytes);
  const starts = new Map<string, number[]>();
  try {
    walk(reader, bytes.length, type, starts);
  } catch (e) {
    if (e instanceof WireProblem) return fail(e.reason, e.byte);
    return fail(e instanceof Error ? e.message : String(e), Math.min(reader.pos, bytes.length));
  }
  return { starts, end: bytes.length };
}
