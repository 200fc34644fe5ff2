/**
 * Bounds-checked little/big-endian reads over a byte array. Every read that would
 * run past the end throws an `ObjectFormatError` naming the offset and what was
 * being read, which is how the ELF and map-definition readers stay crash-free on
 * corrupt input.
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

  /** Throw unless `size` bytes starting at `at` are inside the array. `reportAt` is the offset to blame. */
  need(at: number, size: number, what: string, reportAt: number = at): void {
    if (!Number.isSafeInteger(at) || !Number.isSafeInteger(size) || at < 0 || size < 0 || at + size > this.bytes.length) {
      throw new ObjectFormatError(
        `${what}: ${size} bytes at offset ${at} run past the end (${this.bytes.length} bytes)`,
        { ...this.where, offset: reportAt },
      );
    }
  }

  u8(at: number): number {
    this.need(at, 1, 'u8');
    return this.view.getUint8(at);
  }
  u16(at: number): number {
    this.need(at, 2, 'u16');
    return this.view.getUint16(at, this.littleEndian);
  }
  u32(at: number): number {
    this.need(at, 4, 'u32');
    return this.view.getUint32(at, this.littleEndian);
  }
  i32(at: number): number {
    this.need(at, 4, 'i32');
    return this.view.getInt32(at, this.littleEndian);
  }
  /** Unsigned 64-bit value; values above 2^53 are refused, since they cannot be sizes or offsets here. */
  u64(at: number): number {
    this.need(at, 8, 'u64');
    const v = this.view.getBigUint64(at, this.littleEndian);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new ObjectFormatError(`64-bit value 0x${v.toString(16)} is too large`, { ...this.where, offset: at });
    }
    return Number(v);
  }
  i64(at: number): number {
    this.need(at, 8, 'i64');
    const v = this.view.getBigInt64(at, this.littleEndian);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new ObjectFormatError(`64-bit value ${v} is out of range`, { ...this.where, offset: at });
    }
    return Number(v);
  }
}
