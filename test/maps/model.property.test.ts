/**
 * Property tests (fast-check, fixed seeds): random sequences of program and
 * user-space operations on HASH, LRU_HASH, PERCPU_HASH and ARRAY give the same
 * results and contents as a small model written straight from the kernel's
 * rules (hashtab.c, arraymap.c).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArrayMap } from '../../xdp/maps/array-map.js';
import { Errno, UpdateFlag } from '../../xdp/maps/bpf-map.js';
import { HashMap } from '../../xdp/maps/hash-map.js';
import { at, hex, make, mapDef, testEnv, u32 } from './helpers.js';

type Op =
  | { op: 'update'; key: number; value: number; flags: number; cpu: number }
  | { op: 'write'; key: number; value: number; flags: number }
  | { op: 'delete'; key: number }
  | { op: 'lookup'; key: number; cpu: number }
  | { op: 'read'; key: number };

const CPUS = 2;

const opArb = (keys: number): fc.Arbitrary<Op> => {
  const key = fc.integer({ min: 0, max: keys - 1 });
  const value = fc.integer({ min: 0, max: 0xffffffff });
  const flags = fc.constantFrom(0, 0, 1, 2, 3, 4, 6);
  const cpu = fc.integer({ min: 0, max: CPUS - 1 });
  return fc.oneof(
    fc.record({ op: fc.constant('update' as const), key, value, flags, cpu }),
    fc.record({ op: fc.constant('write' as const), key, value, flags }),
    fc.record({ op: fc.constant('delete' as const), key }),
    fc.record({ op: fc.constant('lookup' as const), key, cpu }),
    fc.record({ op: fc.constant('read' as const), key }),
  );
};

/** The model: a hash of key → per-CPU values, with the kernel's checks in the kernel's order. */
class HashModel {
  readonly data = new Map<number, number[]>();
  /** Least recently used first (LRU only). */
  readonly recency: number[] = [];
  constructor(readonly capacity: number, readonly lru: boolean, readonly percpu: boolean) {}

  private touch(k: number): void {
    if (!this.lru) return;
    const i = this.recency.indexOf(k);
    if (i >= 0) this.recency.splice(i, 1);
    this.recency.push(k);
  }

  store(k: number, v: number, flags: number, cpu: number | undefined): number {
    const lock = UpdateFlag.LOCK;
    if (this.lru || this.percpu ? flags > 2 : (flags & ~lock) > 2 || (flags & lock) !== 0) return -Errno.EINVAL;
    const present = this.data.has(k);
    const op = flags & ~lock;
    if (present && op === 1) return -Errno.EEXIST;
    if (!present && op === 2) return -Errno.ENOENT;
    if (!present && this.data.size >= this.capacity) {
      if (!this.lru) return -Errno.E2BIG;
      const victim = this.recency.shift()!;
      this.data.delete(victim);
    }
    const copies = this.percpu ? CPUS : 1;
    const old = this.data.get(k);
    const vals = Array.from({ length: copies }, (_, c) => (cpu === undefined || !this.percpu || c === cpu ? v : this.percpu && old ? old[c]! : 0));
    this.data.set(k, vals);
    this.touch(k);
    return 0;
  }

  delete(k: number): number {
    if (!this.data.delete(k)) return -Errno.ENOENT;
    const i = this.recency.indexOf(k);
    if (i >= 0) this.recency.splice(i, 1);
    return 0;
  }

  lookup(k: number, cpu: number): number | undefined {
    const v = this.data.get(k);
    if (v === undefined) return undefined;
    this.touch(k);
    return v[this.percpu ? cpu : 0];
  }
}

function runHash(type: 'HASH' | 'LRU_HASH' | 'PERCPU_HASH', ops: Op[], keySize = 4): void {
  const capacity = 4;
  const map = make<HashMap>(mapDef(type, keySize, 4, capacity), testEnv(CPUS));
  // Keys of `keySize` bytes: the model's number in the first four, zeros after (16 bytes takes the by-hash path).
  const key = (n: number) => {
    const b = new Uint8Array(keySize);
    b.set(u32(n));
    return b;
  };
  const model = new HashModel(capacity, type === 'LRU_HASH', type === 'PERCPU_HASH');
  for (const o of ops) {
    switch (o.op) {
      case 'update':
        expect(map.update(key(o.key), u32(o.value), o.flags, o.cpu), JSON.stringify(o)).toBe(model.store(o.key, o.value, o.flags, o.cpu));
        break;
      case 'write':
        expect(map.write(key(o.key), [u32(o.value)], o.flags), JSON.stringify(o)).toBe(model.store(o.key, o.value, o.flags, undefined));
        break;
      case 'delete':
        expect(map.delete(key(o.key), 0)).toBe(model.delete(o.key));
        break;
      case 'lookup': {
        const want = model.lookup(o.key, o.cpu);
        const ref = map.lookup(key(o.key), o.cpu);
        const got = at(ref, 4);
        expect(got === undefined ? undefined : hex(got)).toBe(want === undefined ? undefined : hex(u32(want)));
        // The engines' in-place lookup finds the same value (the key sits at an offset in a larger buffer).
        const buf = new Uint8Array(keySize + 3);
        buf.set(key(o.key), 3);
        const out = new Int32Array(2);
        expect(map.lookupAt(buf, 3, o.cpu, out)).toBe(ref !== undefined);
        if (ref) expect([out[0], out[1]]).toEqual([ref.offset, ref.region.id]);
        break;
      }
      case 'read': {
        const want = model.data.get(o.key);
        expect(map.read(key(o.key))?.map(hex)).toEqual(want?.map((v) => hex(u32(v))));
        break;
      }
    }
    expect(map.size).toBe(model.data.size);
  }
  expect(new Set(map.keys().map(hex))).toEqual(new Set([...model.data.keys()].map((k) => hex(key(k)))));
  if (type === 'LRU_HASH') expect(map.recencyOrder().map(hex)).toEqual(model.recency.map((k) => hex(key(k))));
}

function runArray(ops: Op[]): void {
  const max = 4;
  const map = make<ArrayMap>(mapDef('ARRAY', 4, 4, max), testEnv(CPUS));
  const model = new Array<number>(max).fill(0);
  const check = (k: number, v: number, flags: number): number => {
    if ((flags & ~UpdateFlag.LOCK) > 2) return -Errno.EINVAL;
    if (k >= max) return -Errno.E2BIG;
    if ((flags & UpdateFlag.NOEXIST) !== 0) return -Errno.EEXIST;
    if ((flags & UpdateFlag.LOCK) !== 0) return -Errno.EINVAL;
    model[k] = v;
    return 0;
  };
  for (const o of ops) {
    switch (o.op) {
      case 'update':
        expect(map.update(u32(o.key), u32(o.value), o.flags, o.cpu)).toBe(check(o.key, o.value, o.flags));
        break;
      case 'write':
        expect(map.write(u32(o.key), [u32(o.value)], o.flags)).toBe(check(o.key, o.value, o.flags));
        break;
      case 'delete':
        expect(map.delete(u32(o.key), 0)).toBe(-Errno.EINVAL);
        break;
      case 'lookup':
      case 'read': {
        const got = o.op === 'lookup' ? at(map.lookup(u32(o.key), o.cpu), 4) : map.read(u32(o.key))?.[0];
        expect(got === undefined ? undefined : hex(got)).toBe(o.key < max ? hex(u32(model[o.key]!)) : undefined);
        break;
      }
    }
  }
}

describe('maps against a model (fast-check, fixed seed)', () => {
  // keys 0..5 against 4 slots: fills, overflows and out-of-range indices all happen.
  const ops = fc.array(opArb(6), { maxLength: 120 });
  it('HASH', () => fc.assert(fc.property(ops, (o) => runHash('HASH', o)), { seed: 0x5eed1, numRuns: 300 }));
  it('LRU_HASH (exact LRU)', () => fc.assert(fc.property(ops, (o) => runHash('LRU_HASH', o)), { seed: 0x5eed2, numRuns: 300 }));
  it('PERCPU_HASH', () => fc.assert(fc.property(ops, (o) => runHash('PERCPU_HASH', o)), { seed: 0x5eed3, numRuns: 300 }));
  it('HASH and LRU_HASH with 16-byte keys (the by-hash index)', () => {
    fc.assert(fc.property(ops, (o) => runHash('HASH', o, 16)), { seed: 0x5eed6, numRuns: 300 });
    fc.assert(fc.property(ops, (o) => runHash('LRU_HASH', o, 16)), { seed: 0x5eed7, numRuns: 300 });
  });
  it('ARRAY', () => fc.assert(fc.property(ops, (o) => runArray(o)), { seed: 0x5eed4, numRuns: 300 }));
});
