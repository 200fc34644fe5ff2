/**
 * Bounds-checked reads of fixed-size integers and NUL-terminated strings from
 * one section's bytes. Every failure is an ObjectFormatError carrying the
 * section-relative offset and what was expected there.
 */

import { ObjectFormatError } from '../errors.js';

export class SectionReader {
  private readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    readonly littleEndian: boolean,
    readonly section: string,
    readonly file: string | undefined,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get length(): number {
    return this.bytes.length;
  }

  /** Throw an ObjectFormatError about `offset` in this section. */
  fail(offset: number, message: string): never {
    throw new ObjectFormatError(message, {
      ...(this.file !== undefined ? { file: this.file } : {}),
      section: this.section,
      offset,
    });
  }

  /** Require `len` bytes at `offset`; `what` names the thing that needs them. */
  need(offset: number, len: number, what: string): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || len < 0 || offset + len > this.bytes.length) {
      this.fail(
        offset,
        `truncated: expected ${what} (${len} byte${len === 1 ? '' : 's'}) but the section ends at 0x${this.bytes.length.toString(16)}`,
      );
    }
  }

  u8(offset: number, what: string): number {
    this.need(offset, 1, what);
    return this.view.getUint8(offset);
  }

  u16(offset: number, what: string): number {
    this.need(offset, 2, what);
    return this.view.getUint16(offset, this.littleEndian);
  }

  u32(offset: number, what: string): number {
    this.need(offset, 4, what);
    return this.view.getUint32(offset, this.littleEndian);
  }

  i32(offset: number, what: string): number {
    this.need(offset, 4, what);
    return this.view.getInt32(offset, this.littleEndian);
  }
}

const decoder = new TextDecoder('utf-8');

/**
 * The string at `off` inside a string table (bytes `table`), which must start
 * inside the table and end with a NUL inside it. Returns undefined when not.
 */
export function stringAt(table: Uint8Array, off: number): string | undefined {
  if (!Number.isInteger(off) || off < 0 || off >= table.length) return undefined;
  const end = table.indexOf(0, off);
  if (end < 0) return undefined;
  return decoder.decode(table.subarray(off, end));
}
