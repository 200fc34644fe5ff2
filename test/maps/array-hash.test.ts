/**
 * ARRAY, PERCPU_ARRAY, global data, HASH, PERCPU_HASH, LRU_HASH, LRU_PERCPU_HASH:
 * every error code of kernel/bpf/arraymap.c and hashtab.c the host reproduces,
 * values in Memory regions, per-CPU copies, exact LRU eviction.
 */
import { describe, expect, it } from 'vitest';
import { ArrayMap } from '../../xdp/maps/array-map.js';
import { Errno, UpdateFlag } from '../../xdp/maps/bpf-map.js';
import { HashMap } from '../../xdp/maps/hash-map.js';
import { BPF_F_RDONLY_PROG, MapFlag } from '../../xdp/maps/map-types.js';
import { MemoryFault, RegionKind } from '../../xdp/runtime/memory.js';
import { at, bytes, make, mapDef, testEnv, u32, u64 } from './helpers.js';

const { ANY, NOEXIST, EXIST, LOCK } = UpdateFlag;

describe('ARRAY', () => {
  it('has every element from the start, zeroed, in an 8-byte aligned MAP_VALUE region', () => {
    const env = testEnv();
    const a = make<ArrayMap>(mapDef('ARRAY', 4, 12, 4), env);
    const refs = [0, 1, 2, 3].map((i) => a.lookup(u32(i), 0)!);
    for (const r of refs) {
      expect(r.region.kind).toBe(RegionKind.MAP_VALUE);
      expect(r.region.map).toBe(a.def.index);
      expect(r.offset % 8).toBe(0);
      expect(at(r, 12)).toEqual(new Uint8Array(12));
    }
    expect(refs[1]!.offset - refs[0]!.offset).toBe(16); // round_up(12, 8)
    expect(a.keys()).toEqual([u32(0), u32(1), u32(2), u32(3)]);
    expect(a.handle.kind).toBe(RegionKind.MAP_HANDLE);
    expect(a.handle.map).toBe(a.def.index);
    expect(env.memory.regions[a.handle.id]).toBe(a.handle);
  });

  it('updates in place: a pointer the program holds sees the new value', () => {
    const a = make<ArrayMap>(mapDef('ARRAY', 4, 8, 2));
    const ref = a.lookup(u32(1), 0)!;
    expect(a.update(u32(1), u64(42), ANY, 0)).toBe(0);
    expect(at(ref, 8)).toEqual(u64(42));
    expect(a.update(u32(1), u64(43), EXIST, 0)).toBe(0);
    expect(a.read(u32(1))).toEqual([u64(43)]);
    // writes through the pointer are the map's value
    ref.region.bytes[ref.offset] = 7;
    expect(a.read(u32(1))![0]![0]).toBe(7);
  });

  it('refuses what arraymap.c refuses', () => {
    const a = make<ArrayMap>(mapDef('ARRAY', 4, 8, 2));
    expect(a.lookup(u32(2), 0)).toBeUndefined();
    expect(a.update(u32(2), u64(1), ANY, 0)).toBe(-Errno.E2BIG);
    expect(a.update(u32(0), u64(1), NOEXIST, 0)).toBe(-Errno.EEXIST);
    expect(a.update(u32(5), u64(1), NOEXIST, 0)).toBe(-Errno.E2BIG); // the index check comes first
    expect(a.update(u32(0), u64(1), 3, 0)).toBe(-Errno.EINVAL);
    expect(a.update(u32(0), u64(1), 8, 0)).toBe(-Errno.EINVAL);
    expect(a.update(u32(0), u64(1), LOCK, 0)).toBe(-Errno.EINVAL); // no bpf_spin_lock in the value
    expect(a.update(u32(9), u64(1), LOCK, 0)).toBe(-Errno.E2BIG);
    expect(a.delete(u32(0), 0)).toBe(-Errno.EINVAL);
    expect(a.delete(u32(9), 0)).toBe(-Errno.EINVAL);
    expect(a.read(u32(2))).toBeUndefined();
    expect(a.write(u32(2), [u64(1)], ANY)).toBe(-Errno.E2BIG);
    expect(a.write(u32(0), [u64(1)], NOEXIST)).toBe(-Errno.EEXIST);
    expect(a.push(u64(1), 0)).toBe(-Errno.EINVAL);
    expect(a.pop(false)).toBe(-Errno.EINVAL);
  });

  it('throws on a key of the wrong size (a caller bug, not an errno)', () => {
    const a = make<ArrayMap>(mapDef('ARRAY', 4, 8, 2, { name: 'counts' }));
    expect(() => a.lookup(bytes(1, 2), 0)).toThrow(/map 'counts' \(ARRAY\): key of 2 bytes, expected 4/);
  });

  it('big-endian objects index arrays by big-endian keys', () => {
    const env = testEnv(1, { littleEndian: false });
    const a = make<ArrayMap>(mapDef('ARRAY', 4, 8, 300), env);
    expect(a.update(bytes(0, 0, 1, 0), u64(1), ANY, 0)).toBe(0); // index 256
    expect(a.keys()[256]).toEqual(bytes(0, 0, 1, 0));
    expect(a.lookup(bytes(0, 0, 1, 0), 0)).toBeDefined();
  });

  it('single-element arrays give a direct value pointer (BPF_PSEUDO_MAP_VALUE)', () => {
    const a = make<ArrayMap>(mapDef('ARRAY', 4, 8, 1));
    expect(a.directValue()).toEqual(a.lookup(u32(0), 0));
    expect(make<ArrayMap>(mapDef('ARRAY', 4, 8, 2)).directValue()).toBeUndefined();
  });
});

describe('PERCPU_ARRAY', () => {
  it('keeps one value per CPU: the program sees its CPU, user space all', () => {
    const a = make<ArrayMap>(mapDef('PERCPU_ARRAY', 4, 4, 2), testEnv(3));
    expect(a.update(u32(0), u32(10), ANY, 1)).toBe(0);
    expect(a.read(u32(0))).toEqual([u32(0), u32(10), u32(0)]);
    expect(at(a.lookup(u32(0), 1), 4)).toEqual(u32(10));
    expect(at(a.lookup(u32(0), 2), 4)).toEqual(u32(0));
    expect(a.lookup(u32(0), 0)!.region).not.toBe(a.lookup(u32(0), 1)!.region);
    expect(a.write(u32(1), [u32(1), u32(2), u32(3)], ANY)).toBe(0);
    expect(a.read(u32(1))).toEqual([u32(1), u32(2), u32(3)]);
    expect(a.write(u32(1), [u32(9)], ANY)).toBe(0); // one value for every CPU
    expect(a.read(u32(1))).toEqual([u32(9), u32(9), u32(9)]);
    expect(a.write(u32(1), [u32(1), u32(2)], ANY)).toBe(-Errno.EINVAL);
    expect(a.write(u32(1), [u32(9)], LOCK)).toBe(-Errno.EINVAL); // bpf_percpu_array_update: flags > BPF_EXIST
    expect(() => a.lookup(u32(0), 3)).toThrow(/cpu 3 outside 0..2/);
  });
});

describe('global data', () => {
  it('.rodata holds its initial value and its region is read-only to the program', () => {
    const env = testEnv();
    const ro = make<ArrayMap>(mapDef('ARRAY', 4, 4, 1, {
      name: '.rodata', origin: 'global-data', section: '.rodata', flags: BPF_F_RDONLY_PROG, initialValue: bytes(1, 2, 3, 4),
    }), env);
    const ref = ro.directValue()!;
    expect(ref.region.writable).toBe(false);
    expect(at(ref, 4)).toEqual(bytes(1, 2, 3, 4));
    expect(() => env.memory.resolve(ref.region.id, ref.offset, 4, true)).toThrow(MemoryFault);
    expect(env.memory.resolve(ref.region.id, ref.offset, 4, false)).toBe(ref.region);
    // the verifier refuses map_update_elem on it ("write into map forbidden"): -EACCES
    expect(ro.update(u32(0), bytes(9, 9, 9, 9), ANY, 0)).toBe(-Errno.EACCES);
    // user space may still set it before the run (as a skeleton does before load)
    expect(ro.write(u32(0), [bytes(5, 6, 7, 8)], ANY)).toBe(0);
    expect(at(ref, 4)).toEqual(bytes(5, 6, 7, 8));
  });

  it('.data and .bss are writable', () => {
    const env = testEnv();
    const data = make<ArrayMap>(mapDef('ARRAY', 4, 8, 1, { name: '.data', origin: 'global-data', initialValue: u64(5) }), env);
    const ref = data.directValue()!;
    expect(ref.region.writable).toBe(true);
    env.memory.resolve(ref.region.id, ref.offset, 8, true).view.setUint32(ref.offset, 6, true);
    expect(data.read(u32(0))).toEqual([u64(6)]);
  });

  it('BPF_F_RDONLY maps refuse user writes with -EPERM', () => {
    const a = make<ArrayMap>(mapDef('ARRAY', 4, 4, 1, { flags: MapFlag.RDONLY }));
    expect(a.write(u32(0), [u32(1)], ANY)).toBe(-Errno.EPERM);
    expect(a.update(u32(0), u32(1), ANY, 0)).toBe(0);
  });
});

describe('HASH', () => {
  it('inserts, replaces, deletes, with the kernel error codes', () => {
    const h = make<HashMap>(mapDef('HASH', 4, 8, 2));
    expect(h.lookup(u32(1), 0)).toBeUndefined();
    expect(h.update(u32(1), u64(1), EXIST, 0)).toBe(-Errno.ENOENT);
    expect(h.update(u32(1), u64(1), NOEXIST, 0)).toBe(0);
    expect(h.update(u32(1), u64(2), NOEXIST, 0)).toBe(-Errno.EEXIST);
    expect(h.update(u32(2), u64(2), ANY, 0)).toBe(0);
    expect(h.update(u32(3), u64(3), ANY, 0)).toBe(-Errno.E2BIG); // full
    expect(h.update(u32(1), u64(11), ANY, 0)).toBe(0); // replacing works when full
    expect(h.update(u32(2), u64(12), EXIST, 0)).toBe(0);
    expect(h.update(u32(1), u64(1), 3, 0)).toBe(-Errno.EINVAL);
    expect(h.update(u32(1), u64(1), LOCK, 0)).toBe(-Errno.EINVAL);
    expect(h.update(u32(1), u64(1), LOCK | EXIST, 0)).toBe(-Errno.EINVAL);
    expect(h.read(u32(1))).toEqual([u64(11)]);
    expect(h.delete(u32(3), 0)).toBe(-Errno.ENOENT);
    expect(h.delete(u32(1), 0)).toBe(0);
    expect(h.lookup(u32(1), 0)).toBeUndefined();
    expect(h.update(u32(3), u64(3), ANY, 0)).toBe(0);
    expect(h.keys()).toEqual([u32(2), u32(3)]); // insertion order
    expect(h.write(u32(4), [u64(4)], ANY)).toBe(-Errno.E2BIG);
    expect(h.write(u32(4), [u64(4), u64(4)], ANY)).toBe(-Errno.EINVAL);
  });

  it('compares keys as bytes', () => {
    const h = make<HashMap>(mapDef('HASH', 3, 4, 8));
    expect(h.update(bytes(1, 2, 3), u32(1), ANY, 0)).toBe(0);
    expect(h.update(bytes(1, 2, 4), u32(2), ANY, 0)).toBe(0);
    expect(h.update(bytes(0xff, 0, 0x80), u32(3), ANY, 0)).toBe(0);
    expect(h.read(bytes(1, 2, 3))).toEqual([u32(1)]);
    expect(h.read(bytes(0xff, 0, 0x80))).toEqual([u32(3)]);
    expect(h.read(bytes(1, 2, 5))).toBeUndefined();
  });

  it('puts a replaced value in a new element: an old pointer keeps the old bytes', () => {
    const h = make<HashMap>(mapDef('HASH', 4, 8, 4));
    h.update(u32(1), u64(100), ANY, 0);
    const old = h.lookup(u32(1), 0)!;
    h.update(u32(1), u64(200), ANY, 0);
    expect(at(old, 8)).toEqual(u64(100));
    expect(at(h.lookup(u32(1), 0), 8)).toEqual(u64(200));
  });

  it('does not hand a deleted element to the next insert (freed slots are reused last)', () => {
    const h = make<HashMap>(mapDef('HASH', 4, 8, 3));
    h.update(u32(1), u64(1), ANY, 0);
    const p1 = h.lookup(u32(1), 0)!;
    h.delete(u32(1), 0);
    h.update(u32(2), u64(2), ANY, 0);
    expect(at(p1, 8)).toEqual(u64(1));
    const p2 = h.lookup(u32(2), 0)!;
    expect([p2.region.id, p2.offset]).not.toEqual([p1.region.id, p1.offset]);
  });

  it('holds max_entries keys however they are replaced and deleted', () => {
    const h = make<HashMap>(mapDef('HASH', 4, 4, 3));
    for (let round = 0; round < 50; round++) {
      for (let k = 0; k < 3; k++) expect(h.update(u32(k), u32(round), ANY, 0)).toBe(0);
      expect(h.update(u32(9), u32(0), ANY, 0)).toBe(-Errno.E2BIG);
      expect(h.delete(u32(round % 3), 0)).toBe(0);
    }
    expect(h.size).toBe(2);
  });
});

describe('PERCPU_HASH', () => {
  it('updates in place; a new key from a program zeroes the other CPUs', () => {
    const h = make<HashMap>(mapDef('PERCPU_HASH', 4, 4, 2), testEnv(2));
    expect(h.update(u32(1), u32(5), ANY, 1)).toBe(0);
    expect(h.read(u32(1))).toEqual([u32(0), u32(5)]);
    const p0 = h.lookup(u32(1), 0)!;
    expect(h.update(u32(1), u32(6), ANY, 0)).toBe(0);
    expect(at(p0, 4)).toEqual(u32(6)); // in place
    expect(h.read(u32(1))).toEqual([u32(6), u32(5)]);
    expect(h.write(u32(2), [u32(7), u32(8)], ANY)).toBe(0);
    expect(h.read(u32(2))).toEqual([u32(7), u32(8)]);
    expect(h.update(u32(3), u32(1), ANY, 0)).toBe(-Errno.E2BIG);
    expect(h.update(u32(1), u32(1), LOCK, 0)).toBe(-Errno.EINVAL);
    expect(h.update(u32(1), u32(1), NOEXIST, 0)).toBe(-Errno.EEXIST);
  });
});

describe('LRU_HASH', () => {
  it('evicts the least recently used key instead of -E2BIG', () => {
    const h = make<HashMap>(mapDef('LRU_HASH', 4, 4, 3));
    for (const k of [1, 2, 3]) expect(h.update(u32(k), u32(k), ANY, 0)).toBe(0);
    h.lookup(u32(1), 0); // 1 is now the most recently used
    expect(h.update(u32(4), u32(4), ANY, 0)).toBe(0);
    expect(h.keys().map((k) => k[0])).toEqual([1, 3, 4]);
    h.update(u32(3), u32(33), EXIST, 0); // an update counts as a use
    expect(h.update(u32(5), u32(5), ANY, 0)).toBe(0);
    expect(h.keys().map((k) => k[0]).sort()).toEqual([3, 4, 5]);
    expect(h.recencyOrder().map((k) => k[0])).toEqual([4, 3, 5]);
  });

  it('user-space reads do not refresh a key', () => {
    const h = make<HashMap>(mapDef('LRU_HASH', 4, 4, 2));
    h.update(u32(1), u32(1), ANY, 0);
    h.update(u32(2), u32(2), ANY, 0);
    h.read(u32(1));
    h.update(u32(3), u32(3), ANY, 0);
    expect(h.read(u32(1))).toBeUndefined();
  });

  it('has the LRU flag rules: no BPF_F_LOCK, NOEXIST/EXIST as a hash', () => {
    const h = make<HashMap>(mapDef('LRU_HASH', 4, 4, 2));
    expect(h.update(u32(1), u32(1), LOCK, 0)).toBe(-Errno.EINVAL);
    expect(h.update(u32(1), u32(1), EXIST, 0)).toBe(-Errno.ENOENT);
    expect(h.update(u32(1), u32(1), NOEXIST, 0)).toBe(0);
    expect(h.update(u32(1), u32(1), NOEXIST, 0)).toBe(-Errno.EEXIST);
    expect(h.delete(u32(2), 0)).toBe(-Errno.ENOENT);
  });

  it('BPF_F_NO_COMMON_LRU rounds the capacity to a multiple of the CPU count', () => {
    const h = make<HashMap>(mapDef('LRU_HASH', 4, 4, 5, { flags: MapFlag.NO_COMMON_LRU }), testEnv(4));
    expect(h.capacity).toBe(8);
  });
});

describe('LRU_PERCPU_HASH', () => {
  it('evicts and keeps per-CPU copies', () => {
    const h = make<HashMap>(mapDef('LRU_PERCPU_HASH', 4, 4, 2), testEnv(2));
    h.update(u32(1), u32(1), ANY, 0);
    h.update(u32(2), u32(2), ANY, 1);
    h.lookup(u32(1), 1);
    h.update(u32(3), u32(3), ANY, 0);
    expect(h.keys().map((k) => k[0])).toEqual([1, 3]);
    expect(h.read(u32(3))).toEqual([u32(3), u32(0)]);
  });
});

describe('BPF_F_RDONLY_PROG hashes', () => {
  it('refuse program updates and deletes, and their values are read-only', () => {
    const env = testEnv();
    const h = make<HashMap>(mapDef('HASH', 4, 4, 2, { flags: BPF_F_RDONLY_PROG }), env);
    expect(h.write(u32(1), [u32(1)], ANY)).toBe(0);
    expect(h.update(u32(1), u32(2), ANY, 0)).toBe(-Errno.EACCES);
    expect(h.delete(u32(1), 0)).toBe(-Errno.EACCES);
    const ref = h.lookup(u32(1), 0)!;
    expect(() => env.memory.resolve(ref.region.id, ref.offset, 4, true)).toThrow(/read-only/);
  });
});

describe('large maps', () => {
  it('a 1M-entry hash allocates value memory only as it fills', () => {
    const env = testEnv();
    const h = make<HashMap>(mapDef('HASH', 4, 64, 1 << 20), env);
    expect(env.memory.regions.filter((r) => r?.kind === RegionKind.MAP_VALUE)).toHaveLength(0);
    for (let i = 0; i < 2000; i++) expect(h.update(u32(i), new Uint8Array(64).fill(i & 0xff), ANY, 0)).toBe(0);
    const regions = env.memory.regions.filter((r) => r?.kind === RegionKind.MAP_VALUE);
    expect(regions.length).toBeGreaterThan(0);
    expect(regions.reduce((n, r) => n + r!.bytes.length, 0)).toBeLessThan(1 << 20);
    expect(h.read(u32(1999))![0]![63]).toBe(1999 & 0xff);
  });
});
