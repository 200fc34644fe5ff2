/**
 * Packet shrinker for `offload validate`: when the host engine and the simulated
 * card disagree on a packet, reduce it to the smallest packet that still shows
 * the disagreement, so that the report names a few bytes instead of 1,500.
 *
 * Greedy delta debugging over bytes, deterministic: cut the tail (the whole
 * tail first, then halves, quarters, ... down to one byte), remove chunks from
 * the middle (large chunks first), then set bytes to zero (large runs first,
 * then single bytes). A change is kept whenever the packet still fails; the
 * passes repeat until none of them changes anything or the budget of
 * `stillFails` calls runs out. Candidates already rejected are not asked again.
 */

export interface ShrinkOptions {
  /** Most calls of `stillFails`; default 2000. */
  maxTries?: number;
}

export interface ShrinkResult {
  /** The smallest failing packet found (a new array; the input is not modified). */
  packet: Uint8Array;
  /** How many times `stillFails` was called. */
  tries: number;
}

/** Hex text of a candidate, the key of the rejected-candidate memo. */
function keyOf(p: Uint8Array): string {
  return Buffer.from(p.buffer, p.byteOffset, p.byteLength).toString('hex');
}

/**
 * Shrink `packet`, for which `stillFails(packet)` is assumed true, to a smaller
 * one (shorter, then with more zero bytes) for which `stillFails` is also true.
 * `stillFails` must be deterministic; it is never called more than `maxTries` times.
 */
export function shrinkPacket(
  packet: Uint8Array,
  stillFails: (p: Uint8Array) => boolean,
  opts: ShrinkOptions = {},
): ShrinkResult {
  const maxTries = opts.maxTries ?? 2000;
  if (!(maxTries >= 0)) throw new RangeError(`maxTries must be >= 0, got ${maxTries}`);
  let cur: Uint8Array = packet.slice();
  let tries = 0;
  const rejected = new Set<string>();

  const budgetLeft = (): boolean => tries < maxTries;
  /** Ask about `candidate`; keep it when it still fails. */
  const attempt = (candidate: Uint8Array): boolean => {
    if (!budgetLeft()) return false;
    const key = keyOf(candidate);
    if (rejected.has(key)) return false;
    tries++;
    if (stillFails(candidate.slice())) {
      cur = candidate;
      return true;
    }
    rejected.add(key);
    return false;
  };

  const without = (start: number, size: number): Uint8Array => {
    const out = new Uint8Array(cur.length - size);
    out.set(cur.subarray(0, start), 0);
    out.set(cur.subarray(start + size), start);
    return out;
  };

  /** Cut the tail: everything, then ever smaller steps, each step repeated while it works. */
  const cutTail = (): boolean => {
    let changed = false;
    for (let step = cur.length; step >= 1 && budgetLeft(); step = Math.floor(step / 2)) {
      while (step <= cur.length && budgetLeft() && attempt(cur.slice(0, cur.length - step))) changed = true;
    }
    return changed;
  };

  /** Remove chunks anywhere, large chunks first. */
  const removeChunks = (): boolean => {
    let changed = false;
    for (let size = Math.floor(cur.length / 2); size >= 1 && budgetLeft(); size = Math.floor(size / 2)) {
      let start = 0;
      while (start + size <= cur.length && budgetLeft()) {
        if (attempt(without(start, size))) changed = true; // the next chunk has moved to `start`
        else start += size;
      }
    }
    return changed;
  };

  /** Zero runs of non-zero bytes, large runs first, down to single bytes. */
  const zeroBytes = (): boolean => {
    let changed = false;
    for (let size = cur.length; size >= 1 && budgetLeft(); size = size === 1 ? 0 : Math.ceil(size / 2)) {
      for (let start = 0; start < cur.length && budgetLeft(); start += size) {
        const end = Math.min(cur.length, start + size);
        if (cur.subarray(start, end).every((b) => b === 0)) continue;
        const candidate = cur.slice();
        candidate.fill(0, start, end);
        if (attempt(candidate)) changed = true;
      }
    }
    return changed;
  };

  for (let round = true; round && budgetLeft(); ) {
    const a = cutTail();
    const b = removeChunks();
    const c = zeroBytes();
    round = a || b || c;
  }
  return { packet: cur, tries };
}
