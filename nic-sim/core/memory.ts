/**
 * Byte-level access to the memory regions and to local memory, bounds-checked.
 * Words in memory are big-endian unless the command says `_swap` (docs/nic-isa.md
 * "Memory commands"); local-memory words are little-endian lanes (byte b is bits
 * 8(b mod 4)+7..8(b mod 4) of word b/4, "Machine model").
 */
import type { Exec } from './context.js';

/** Fails unless [addr, addr + len) lies inside a region of `size` bytes. */
export function checkRange(x: Exec, region: string, addr: number, len: number, size: number): void {
  if (addr < 0 || addr + len > size) {
    x.fail('memory', `${region} access 0x${addr.toString(16)}+${len} is outside the region (0x${size.toString(16)} bytes)`);
  }
}

/** The 32-bit word at `addr` (in range), first byte in bits 31..24 (big-endian) or 7..0 (little-endian). */
export function getWord(m: Uint8Array, addr: number, littleEndian: boolean): number {
  const b0 = m[addr] as number, b1 = m[addr + 1] as number, b2 = m[addr + 2] as number, b3 = m[addr + 3] as number;
  return (littleEndian ? (b3 << 24) | (b2 << 16) | (b1 << 8) | b0 : (b0 << 24) | (b1 << 16) | (b2 << 8) | b3) >>> 0;
}

export function putWord(m: Uint8Array, addr: number, v: number, littleEndian: boolean): void {
  for (let i = 0; i < 4; i++) m[addr + i] = (littleEndian ? v >>> (8 * i) : v >>> (24 - 8 * i)) & 0xff;
}
