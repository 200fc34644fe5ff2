/**
 * Bounds-checked little/big-endian reads over one file's or section's bytes,
 * shared by the ELF, map-definition and BTF readers. A read past the end throws
 * an `ObjectFormatError` naming the offset and what was expected there, so a
 * corrupt object ends in a message, never a RangeError.
 */
import { ObjectFormatError, type Location } from '../errors.js';

export class ByteReader {
  private readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly littleEndian: boolean,
    private readonly where: Omit<Location, 'offset'>,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get length(): number {
    return this.bytes.length;
  }

  /** Throw an ObjectFormatError about `offset`. */
  fail(offset: number, message: string): never {
    throw new ObjectFormatError(message, { ...this.where, offset });
  }

  /** Require `size` bytes at `at`; `what` names what needs them, `reportAt` the offset to blame. */
  need(at: number, size: number, what: string, reportAt: number = at): void {
    if (!Number.isSafeInteger(at) || !Number.isSafeInteger(size) || at < 0 || size < 0 || at + size > this.bytes.length) {
      this.fail(
        reportAt,
        `truncated: expected ${what} (${size} byte${size === 1 ? '' : 's'} at offset ${at}) but the ${this.where.section !== undefined ? 'section' : 'file'} ends at 0x${this.bytes.length.toString(16)}`,
      );
    }
  }

  u8(at: number, what = 'a byte'): number {
    this.need(at, 1, what);
    return this.view.getUint8(at);
  }
  u16(at: number, what = 'a u16'): number {
    this.need(at, 2, what);
    return this.view.getUint16(at, this.littleEndian);
  }
  u32(at: number, what = 'a u32'): number {
    this.need(at, 4, what);
    return this.view.getUint32(at, this.littleEndian);
  }
  i32(at: number, what = 'an s32'): number {
    this.need(at, 4, what);
    return this.view.getInt32(at, this.littleEndian);
  }
  /** Unsigned 64-bit value; values above 2^53 are refused, since they cannot be sizes or offsets. */
  u64(at: number, what = 'a u64'): number {
    this.need(at, 8, what);
    const v = this.view.getBigUint64(at, this.littleEndian);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(at, `${what} 0x${v.toString(16)} is too large`);
    return Number(v);
  }
  i64(at: number, what = 'an s64'): number {
    this.need(at, 8, what);
    const v = this.view.getBigInt64(at, this.littleEndian);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) this.fail(at, `${what} ${v} is out of range`);
    return Number(v);
  }
}

const decoder = new TextDecoder('utf-8');

/**
 * The NUL-terminated string at `off` of a string table, or undefined when it does
 * not start inside the table or has no NUL before the table ends.
 */
export function stringAt(table: Uint8Array, off: number): string | undefined {
  if (!Number.isInteger(off) || off < 0 || off >= table.length) return undefined;
  const end = table.indexOf(0, off);
  if (end < 0) return undefined;
  return decoder.decode(table.subarray(off, end));
}
