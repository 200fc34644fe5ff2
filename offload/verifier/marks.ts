/**
 * Per-frame bit sets over registers and 8-byte stack slots, one layout for the
 * verifier's three kinds of marks: which scalars a checkpoint must compare
 * precisely (the kernel's `precise` flags), which stack slots a later path read
 * (REG_LIVE_READ), and which slots a path segment wrote whole (REG_LIVE_WRITTEN),
 * and for the register/slot set the precision backtracking carries (struct
 * backtrack_state). Three 32-bit words a frame: registers, slots 0-31, slots 32-63
 * (slot k holds the stack bytes fp-512+8k .. fp-512+8k+7).
 */
export const MAX_FRAMES = 8;
const WORDS = 3;

export type Marks = Uint32Array;

export const newMarks = (): Marks => new Uint32Array(MAX_FRAMES * WORDS);
/** Every slot of `frame` marked (a frame created inside a segment is entirely its own). */
export function markWholeFrame(m: Marks, frame: number): void {
  m[frame * WORDS + 1] = 0xffffffff;
  m[frame * WORDS + 2] = 0xffffffff;
}
export function clearFrame(m: Marks, frame: number): void {
  m.fill(0, frame * WORDS, frame * WORDS + WORDS);
}

/** Queries take `undefined` for a set not allocated yet (nothing marked). */
export const hasReg = (m: Marks | undefined, frame: number, r: number): boolean => m !== undefined && ((m[frame * WORDS]! >>> r) & 1) === 1;
export function setReg(m: Marks, frame: number, r: number): void {
  m[frame * WORDS] = m[frame * WORDS]! | (1 << r);
}
export function clearReg(m: Marks, frame: number, r: number): void {
  m[frame * WORDS] = m[frame * WORDS]! & ~(1 << r);
}
export const regWord = (m: Marks, frame: number): number => m[frame * WORDS]!;
export function setRegWord(m: Marks, frame: number, w: number): void {
  m[frame * WORDS] = w;
}

const slotWord = (frame: number, k: number): number => frame * WORDS + 1 + (k >>> 5);
export const hasSlot = (m: Marks | undefined, frame: number, k: number): boolean => m !== undefined && ((m[slotWord(frame, k)]! >>> (k & 31)) & 1) === 1;
export function setSlot(m: Marks, frame: number, k: number): void {
  const w = slotWord(frame, k);
  m[w] = m[w]! | (1 << (k & 31));
}
export function clearSlot(m: Marks, frame: number, k: number): void {
  const w = slotWord(frame, k);
  m[w] = m[w]! & ~(1 << (k & 31));
}
export const hasSlots = (m: Marks, frame: number): boolean => (m[frame * WORDS + 1]! | m[frame * WORDS + 2]!) !== 0;

export function isEmpty(m: Marks): boolean {
  for (let i = 0; i < m.length; i++) if (m[i] !== 0) return false;
  return true;
}

/** Calls `fn` for every register (kind 'reg') and slot (kind 'slot') marked in `frame`. */
export function forEachMark(m: Marks | undefined, frame: number, fn: (kind: 'reg' | 'slot', index: number) => void): void {
  if (m === undefined) return;
  for (let w = 0; w < WORDS; w++) {
    let bits = m[frame * WORDS + w]!;
    while (bits !== 0) {
      const low = bits & -bits;
      const b = 31 - Math.clz32(low);
      bits ^= low;
      if (w === 0) fn('reg', b);
      else fn('slot', (w - 1) * 32 + b);
    }
  }
}
