/**
 * 64-bit integer arithmetic on (lo, hi) pairs of int32, the register
 * representation of both host engines. The simple operations (add, sub, logic)
 * are inlined by the engines; the ones below are the slow or subtle ones, with
 * the ISA's exact semantics (RFC 9669 §4.1): division by zero gives 0, modulo
 * by zero leaves the dividend, signed overflow wraps (INT_MIN / -1 = INT_MIN,
 * INT_MIN % -1 = 0). Results come back through a two-slot Int32Array so that
 * no object is allocated per instruction.
 */

/** Scratch output: out[0] = lo, out[1] = hi. */
export type PairOut = Int32Array;

export const toBig = (lo: number, hi: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);

export function fromBig(v: bigint, out: PairOut): void {
  out[0] = Number(BigInt.asIntN(32, v));
  out[1] = Number(BigInt.asIntN(32, v >> 32n));
}

/** High 32 bits of the unsigned 64-bit product of two uint32 values. */
export function mulHiU32(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const mid = a1 * b0 + ((a0 * b0) >>> 16);
  const mid2 = a0 * b1 + (mid & 0xffff);
  return (a1 * b1 + Math.floor(mid / 0x10000) + Math.floor(mid2 / 0x10000)) | 0;
}

export function mul64(alo: number, ahi: number, blo: number, bhi: number, out: PairOut): void {
  out[0] = Math.imul(alo, blo);
  out[1] = (mulHiU32(alo >>> 0, blo >>> 0) + Math.imul(alo, bhi) + Math.imul(ahi, blo)) | 0;
}

export function udiv64(alo: number, ahi: number, blo: number, bhi: number, out: PairOut): void {
  if (blo === 0 && bhi === 0) {
    out[0] = 0;
    out[1] = 0;
  } else if (ahi === 0 && bhi === 0) {
    out[0] = Math.floor((alo >>> 0) / (blo >>> 0)) | 0;
    out[1] = 0;
  } else {
    fromBig(toBig(alo, ahi) / toBig(blo, bhi), out);
  }
}

export function umod64(alo: number, ahi: number, blo: number, bhi: number, out: PairOut): void {
  if (blo === 0 && bhi === 0) {
    out[0] = alo;
    out[1] = ahi;
  } else if (ahi === 0 && bhi === 0) {
    out[0] = ((alo >>> 0) % (blo >>> 0)) | 0;
    out[1] = 0;
  } else {
    fromBig(toBig(alo, ahi) % toBig(blo, bhi), out);
  }
}

export function sdiv64(alo: number, ahi: number, blo: number, bhi: number, out: PairOut): void {
  if (blo === 0 && bhi === 0) {
    out[0] = 0;
    out[1] = 0;
    return;
  }
  // BigInt division truncates toward zero, as the ISA's signed division does; asIntN wraps INT_MIN / -1.
  fromBig(BigInt.asIntN(64, BigInt.asIntN(64, toBig(alo, ahi)) / BigInt.asIntN(64, toBig(blo, bhi))), out);
}

export function smod64(alo: number, ahi: number, blo: number, bhi: number, out: PairOut): void {
  if (blo === 0 && bhi === 0) {
    out[0] = alo;
    out[1] = ahi;
    return;
  }
  fromBig(BigInt.asIntN(64, toBig(alo, ahi)) % BigInt.asIntN(64, toBig(blo, bhi)), out);
}

/** 32-bit operations return the low word; the engines zero the high word. */
export const udiv32 = (a: number, b: number): number => (b === 0 ? 0 : Math.floor((a >>> 0) / (b >>> 0)) | 0);
export const umod32 = (a: number, b: number): number => (b === 0 ? a : ((a >>> 0) % (b >>> 0)) | 0);
export function sdiv32(a: number, b: number): number {
  if (b === 0) return 0;
  if (a === -0x80000000 && b === -1) return a;
  return Math.trunc(a / b) | 0;
}
export function smod32(a: number, b: number): number {
  if (b === 0) return a;
  if (b === -1) return 0;
  return a % b | 0;
}

export function lsh64(lo: number, hi: number, n: number, out: PairOut): void {
  n &= 63;
  if (n === 0) {
    out[0] = lo;
    out[1] = hi;
  } else if (n < 32) {
    out[1] = (hi << n) | (lo >>> (32 - n));
    out[0] = lo << n;
  } else {
    out[1] = lo << (n - 32);
    out[0] = 0;
  }
}

export function rsh64(lo: number, hi: number, n: number, out: PairOut): void {
  n &= 63;
  if (n === 0) {
    out[0] = lo;
    out[1] = hi;
  } else if (n < 32) {
    out[0] = (lo >>> n) | (hi << (32 - n));
    out[1] = hi >>> n;
  } else {
    out[0] = hi >>> (n - 32);
    out[1] = 0;
  }
}

export function arsh64(lo: number, hi: number, n: number, out: PairOut): void {
  n &= 63;
  if (n === 0) {
    out[0] = lo;
    out[1] = hi;
  } else if (n < 32) {
    out[0] = (lo >>> n) | (hi << (32 - n));
    out[1] = hi >> n;
  } else {
    out[0] = hi >> (n - 32);
    out[1] = hi >> 31;
  }
}

/** Byte-swap the low `bits` of a value (16, 32 or 64), zero-extending the rest. */
export function bswap(lo: number, hi: number, bits: number, out: PairOut): void {
  if (bits === 16) {
    out[0] = ((lo & 0xff) << 8) | ((lo >>> 8) & 0xff);
    out[1] = 0;
  } else if (bits === 32) {
    out[0] = ((lo & 0xff) << 24) | ((lo & 0xff00) << 8) | ((lo >>> 8) & 0xff00) | (lo >>> 24);
    out[1] = 0;
  } else {
    const l = ((lo & 0xff) << 24) | ((lo & 0xff00) << 8) | ((lo >>> 8) & 0xff00) | (lo >>> 24);
    out[0] = ((hi & 0xff) << 24) | ((hi & 0xff00) << 8) | ((hi >>> 8) & 0xff00) | (hi >>> 24);
    out[1] = l;
  }
}

/** Truncate to the low `bits` (the `le` conversion on a little-endian host). */
export function truncate(lo: number, hi: number, bits: number, out: PairOut): void {
  if (bits === 16) {
    out[0] = lo & 0xffff;
    out[1] = 0;
  } else if (bits === 32) {
    out[0] = lo;
    out[1] = 0;
  } else {
    out[0] = lo;
    out[1] = hi;
  }
}

/** Unsigned compare of two pairs: -1, 0, 1. */
export function ucmp64(alo: number, ahi: number, blo: number, bhi: number): number {
  if (ahi !== bhi) return (ahi >>> 0) < (bhi >>> 0) ? -1 : 1;
  if (alo !== blo) return (alo >>> 0) < (blo >>> 0) ? -1 : 1;
  return 0;
}

/** Signed compare of two pairs: -1, 0, 1. */
export function scmp64(alo: number, ahi: number, blo: number, bhi: number): number {
  if (ahi !== bhi) return ahi < bhi ? -1 : 1;
  if (alo !== blo) return (alo >>> 0) < (blo >>> 0) ? -1 : 1;
  return 0;
}
