import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { KeyIndex, fixedTableLength } from '../../nic-sim/firmware/key-index.js';

/** The same operations on a Map keyed by the key's bytes spelled out: what the index must agree with. */
class Reference {
  readonly slots = new Map<string, number>();
  find(key: Uint8Array): number {
    return this.slots.get(key.join(',')) ?? -1;
  }
}

/** An index in fixed storage for `slots` slots (the card memory's way), or in arrays of its own. */
const makeIndex = (keySize: number, fixed: boolean, slots: number): KeyIndex =>
  fixed ? new KeyIndex(keySize, { table: new Int32Array(fixedTableLength(slots)), keys: new Uint8Array(slots * keySize) }) : new KeyIndex(keySize);

describe.each([false, true])('a HASH map\'s key index (property; fixed storage: %s)', (fixed) => {
  it('finds, adds and removes keys as a Map of their bytes does, and keeps the order they arrived in', () => {
    // Short keys from a small alphabet: many collisions, keys removed and added again, deleted marks reused.
    const op = fc.record({ kind: fc.constantFrom('add', 'add', 'remove', 'find'), key: fc.array(fc.nat(3), { minLength: 3, maxLength: 3 }) });
    fc.assert(fc.property(fc.constantFrom(1, 3, 4, 7), fc.array(op, { maxLength: 400 }), (keySize, ops) => {
      const index = makeIndex(keySize, fixed, 400);
      const ref = new Reference();
      const free: number[] = [];
      let next = 0;
      // The key sits inside a larger buffer, as it does in LM.
      const mem = new Uint8Array(32);
      for (const { kind, key } of ops) {
        const bytes = Uint8Array.from({ length: keySize }, (_, k) => key[k % key.length]! * 37 + k);
        mem.set(bytes, 9);
        const slot = index.find(mem, 9);
        expect(slot).toBe(ref.find(bytes));
        if (kind === 'add' && slot < 0) {
          const s = free.length > 0 ? free.shift()! : next++;
          index.add(mem, 9, s);
          ref.slots.set(bytes.join(','), s);
        } else if (kind === 'remove' && slot >= 0) {
          index.remove(slot);
          ref.slots.delete(bytes.join(','));
          free.push(slot);
        }
        expect(index.size).toBe(ref.slots.size);
      }
      expect(index.slots()).toEqual([...ref.slots.values()]);
      expect(index.slots().map((s) => [...index.keyOf(s)].join(','))).toEqual([...ref.slots.keys()]);
    }), { numRuns: 300, seed: 12 });
  });

  it('holds 100,000 keys, then finds every one and no other after half are removed', () => {
    const index = makeIndex(13, fixed, 100_000);
    const key = (n: number) => Uint8Array.from({ length: 13 }, (_, k) => (n >>> ((k % 4) * 8)) & 0xff);
    for (let n = 0; n < 100_000; n++) index.add(key(n), 0, n);
    for (let n = 0; n < 100_000; n += 2) index.remove(index.find(key(n), 0));
    expect(index.size).toBe(50_000);
    for (let n = 0; n < 100_000; n++) expect(index.find(key(n), 0)).toBe(n % 2 === 1 ? n : -1);
    expect(index.find(key(100_001), 0)).toBe(-1);
    expect(index.slots().slice(0, 3)).toEqual([1, 3, 5]);
  });
});

describe('a key index in fixed storage', () => {
  it('keeps its table through 50,000 adds and removes on 64 slots (rebuilt in place as deleted marks fill it), and refuses a slot past its keys', () => {
    const table = new Int32Array(fixedTableLength(64));
    const index = new KeyIndex(4, { table, keys: new Uint8Array(64 * 4) });
    const key = (n: number) => Uint8Array.from([n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, 7]);
    // Keys n live in slot n mod 64; each new key replaces the oldest, whose slot it takes.
    const live: number[] = [];
    for (let n = 0; n < 50_000; n++) {
      if (live.length === 64) index.remove(index.find(key(live.shift()!), 0));
      index.add(key(n), 0, n % 64);
      live.push(n);
    }
    expect(index.size).toBe(64);
    for (const n of live) expect(index.find(key(n), 0)).toBe(n % 64);
    expect(index.find(key(live[0]! - 1), 0)).toBe(-1);
    expect(table.length).toBe(fixedTableLength(64));
    expect(() => new KeyIndex(4, { table: new Int32Array(100), keys: new Uint8Array(4) })).toThrow(/power of two/);
    const small = new KeyIndex(4, { table: new Int32Array(16), keys: new Uint8Array(8) });
    small.add(key(1), 0, 0);
    small.add(key(2), 0, 1);
    expect(() => small.add(key(3), 0, 2)).toThrow(/beyond the key index's fixed storage/);
  });
});
