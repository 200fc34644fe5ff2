/**
 * The seeded random numbers `offload validate`'s packet generator draws from: a
 * splitmix32-style generator (a 32-bit state advanced by the golden-ratio constant,
 * then mixed), deterministic for a seed and never Math.random.
 */

/** A deterministic source of random numbers. */
export interface Rng {
  /** Uniform unsigned 32-bit integer. */
  u32(): number;
  /** Uniform integer in [0, n) (0 when n <= 0). */
  int(n: number): number;
  /** Uniform integer in [lo, hi], both included. */
  range(lo: number, hi: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T;
  /** n random bytes. */
  bytes(n: number): Uint8Array;
}

function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * splitmix32: a Weyl sequence (step 0x9e3779b9) through a 32-bit finalizer.
 * Any finite number is a seed; seeds beyond 32 bits use their high part too.
 */
export function createRng(seed: number): Rng {
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
  const whole = Math.trunc(seed);
  const lo = whole >>> 0;
  const hi = Math.floor(whole / 0x1_0000_0000) >>> 0;
  let state = fmix32(lo ^ fmix32((hi + 0x6a09e667) | 0)) | 0;
  const u32 = (): number => {
    state = (state + 0x9e3779b9) | 0;
    return fmix32(state);
  };
  const int = (n: number): number => (n <= 0 ? 0 : Math.floor((u32() / 0x1_0000_0000) * n));
  return {
    u32,
    int,
    range: (a, b) => a + int(b - a + 1),
    chance: (p) => u32() / 0x1_0000_0000 < p,
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new RangeError('pick from an empty list');
      return items[int(items.length)] as T;
    },
    bytes: (n) => {
      const out = new Uint8Array(Math.max(0, n));
      for (let i = 0; i < out.length; i += 4) {
        const v = u32();
        out[i] = v & 0xff;
        if (i + 1 < out.length) out[i + 1] = (v >>> 8) & 0xff;
        if (i + 2 < out.length) out[i + 2] = (v >>> 16) & 0xff;
        if (i + 3 < out.length) out[i + 3] = v >>> 24;
      }
      return out;
    },
  };
}

