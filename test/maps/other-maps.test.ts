/**
 * LPM_TRIE, QUEUE/STACK, DEVMAP/DEVMAP_HASH/CPUMAP/XSKMAP, PROG_ARRAY,
 * ARRAY_OF_MAPS/HASH_OF_MAPS, RINGBUF and PERF_EVENT_ARRAY: the kernel's
 * semantics and error codes, as kernel/bpf/*.c and net/xdp/xskmap.c have them.
 */
import { describe, expect, it } from 'vitest';
import { Errno, UpdateFlag } from '../../xdp/maps/bpf-map.js';
import { createMaps } from '../../xdp/maps/create-map.js';
import { LpmTrieMap } from '../../xdp/maps/lpm-trie-map.js';
import { MapDefError } from '../../xdp/maps/map-errors.js';
import { MapInMap } from '../../xdp/maps/map-in-map.js';
import { MapFlag } from '../../xdp/maps/map-types.js';
import { BPF_F_CURRENT_CPU, PerfEventArrayMap } from '../../xdp/maps/perf-event-array-map.js';
import { ProgArrayMap } from '../../xdp/maps/prog-array-map.js';
import { QueueStackMap } from '../../xdp/maps/queue-stack-map.js';
import { CpuMap, DevMap, XskMap } from '../../xdp/maps/redirect-maps.js';
import { RingBufMap, RingbufQuery } from '../../xdp/maps/ringbuf-map.js';
import { Memory, RegionKind } from '../../xdp/runtime/memory.js';
import { at, bytes, make, mapDef, testEnv, u32, u64 } from './helpers.js';

const { ANY, NOEXIST, EXIST } = UpdateFlag;
const lpmKey = (prefixlen: number, ...data: number[]): Uint8Array => new Uint8Array([...u32(prefixlen), ...data]);

describe('LPM_TRIE', () => {
  const trie = (max = 8): LpmTrieMap => make<LpmTrieMap>(mapDef('LPM_TRIE', 8, 4, max, { flags: MapFlag.NO_PREALLOC }));

  it('finds the longest matching prefix for a full-length key', () => {
    const t = trie();
    expect(t.update(lpmKey(8, 10, 0, 0, 0), u32(8), ANY, 0)).toBe(0);
    expect(t.update(lpmKey(16, 10, 1, 0, 0), u32(16), ANY, 0)).toBe(0);
    expect(t.update(lpmKey(24, 10, 1, 2, 0), u32(24), ANY, 0)).toBe(0);
    expect(t.update(lpmKey(0, 0, 0, 0, 0), u32(0), ANY, 0)).toBe(0);
    expect(at(t.lookup(lpmKey(32, 10, 1, 2, 3), 0), 4)).toEqual(u32(24));
    expect(at(t.lookup(lpmKey(32, 10, 1, 3, 3), 0), 4)).toEqual(u32(16));
    expect(at(t.lookup(lpmKey(32, 10, 9, 9, 9), 0), 4)).toEqual(u32(8));
    expect(at(t.lookup(lpmKey(32, 11, 0, 0, 0), 0), 4)).toEqual(u32(0));
    // a shorter lookup key only matches prefixes no longer than itself
    expect(at(t.lookup(lpmKey(20, 10, 1, 2, 3), 0), 4)).toEqual(u32(16));
    expect(t.lookup(lpmKey(33, 10, 1, 2, 3), 0)).toBeUndefined();
    expect(t.match(lpmKey(32, 10, 1, 2, 3))!.key).toEqual(lpmKey(24, 10, 1, 2, 0));
  });

  it('matches bit prefixes that are not whole bytes', () => {
    const t = trie();
    t.update(lpmKey(12, 0xab, 0xc0, 0, 0), u32(1), ANY, 0);
    expect(t.lookup(lpmKey(32, 0xab, 0xcf, 1, 2), 0)).toBeDefined();
    expect(t.lookup(lpmKey(32, 0xab, 0xd0, 1, 2), 0)).toBeUndefined();
    // bits past the prefix do not make another element: this replaces it
    expect(t.update(lpmKey(12, 0xab, 0xcf, 0xff, 0xff), u32(2), NOEXIST, 0)).toBe(-Errno.EEXIST);
    expect(t.update(lpmKey(12, 0xab, 0xcf, 0xff, 0xff), u32(2), ANY, 0)).toBe(0);
    expect(t.keys()).toEqual([lpmKey(12, 0xab, 0xcf, 0xff, 0xff)]);
  });

  it('has lpm_trie.c error codes', () => {
    const t = trie(2);
    expect(t.update(lpmKey(33, 1, 2, 3, 4), u32(1), ANY, 0)).toBe(-Errno.EINVAL);
    expect(t.update(lpmKey(8, 1, 2, 3, 4), u32(1), 4, 0)).toBe(-Errno.EINVAL);
    expect(t.update(lpmKey(8, 1, 2, 3, 4), u32(1), EXIST, 0)).toBe(-Errno.ENOENT);
    expect(t.update(lpmKey(8, 1, 2, 3, 4), u32(1), NOEXIST, 0)).toBe(0);
    expect(t.update(lpmKey(16, 1, 2, 3, 4), u32(1), ANY, 0)).toBe(0);
    expect(t.update(lpmKey(24, 1, 2, 3, 4), u32(1), ANY, 0)).toBe(-Errno.ENOSPC);
    expect(t.update(lpmKey(16, 1, 2, 3, 4), u32(5), EXIST, 0)).toBe(0); // replacing works when full
    expect(t.delete(lpmKey(24, 1, 2, 3, 4), 0)).toBe(-Errno.ENOENT);
    expect(t.delete(lpmKey(33, 1, 2, 3, 4), 0)).toBe(-Errno.EINVAL);
    expect(t.delete(lpmKey(8, 1, 9, 9, 9), 0)).toBe(0); // the same /8
    expect(t.keys()).toEqual([lpmKey(16, 1, 2, 3, 4)]);
  });

  it('lists keys in trie_get_next_key post-order: more specific first, the 0 branch first', () => {
    const t = trie();
    for (const k of [lpmKey(16, 192, 168, 0, 0), lpmKey(24, 192, 168, 128, 0), lpmKey(24, 192, 168, 0, 0), lpmKey(24, 192, 168, 1, 0)]) {
      t.update(k, u32(1), ANY, 0);
    }
    expect(t.keys()).toEqual([lpmKey(24, 192, 168, 0, 0), lpmKey(24, 192, 168, 1, 0), lpmKey(24, 192, 168, 128, 0), lpmKey(16, 192, 168, 0, 0)]);
  });
});

describe('QUEUE and STACK', () => {
  it('queue: first in, first out; full -E2BIG unless BPF_EXIST drops the oldest', () => {
    const q = make<QueueStackMap>(mapDef('QUEUE', 0, 4, 2));
    expect(q.pop(false)).toBe(-Errno.ENOENT);
    expect(q.pop(true)).toBe(-Errno.ENOENT);
    expect(q.push(u32(1), ANY)).toBe(0);
    expect(q.push(u32(2), ANY)).toBe(0);
    expect(q.push(u32(3), ANY)).toBe(-Errno.E2BIG);
    expect(q.push(u32(3), EXIST)).toBe(0);
    expect(q.contents()).toEqual([u32(2), u32(3)]);
    expect(q.pop(true)).toEqual(u32(2));
    expect(q.pop(false)).toEqual(u32(2));
    expect(q.pop(false)).toEqual(u32(3));
    expect(q.pop(false)).toBe(-Errno.ENOENT);
    expect(q.push(u32(1), NOEXIST)).toBe(-Errno.EINVAL);
    expect(q.push(u32(1), 4)).toBe(-Errno.EINVAL);
  });

  it('stack: last in, first out; BPF_EXIST drops the oldest (the bottom)', () => {
    const s = make<QueueStackMap>(mapDef('STACK', 0, 4, 2));
    s.push(u32(1), ANY);
    s.push(u32(2), ANY);
    expect(s.push(u32(3), ANY)).toBe(-Errno.E2BIG);
    expect(s.push(u32(3), EXIST)).toBe(0);
    expect(s.pop(true)).toEqual(u32(3));
    expect(s.pop(false)).toEqual(u32(3));
    expect(s.pop(false)).toEqual(u32(2));
    expect(s.pop(false)).toBe(-Errno.ENOENT);
  });

  it('has no keys: lookup NULL, update/delete -EINVAL; user space pushes and peeks', () => {
    const q = make<QueueStackMap>(mapDef('QUEUE', 0, 4, 4));
    expect(q.lookup(new Uint8Array(0), 0)).toBeUndefined();
    expect(q.update(new Uint8Array(0), u32(1), ANY, 0)).toBe(-Errno.EINVAL);
    expect(q.delete(new Uint8Array(0), 0)).toBe(-Errno.EINVAL);
    expect(q.keys()).toEqual([]);
    expect(q.write(new Uint8Array(0), [u32(7)], ANY)).toBe(0);
    expect(q.read(new Uint8Array(0))).toEqual([u32(7)]);
    expect(q.size).toBe(1);
  });

  it('keeps order through many wraps', () => {
    const q = make<QueueStackMap>(mapDef('QUEUE', 0, 4, 3));
    let next = 0;
    let expected = 0;
    for (let i = 0; i < 500; i++) {
      while (q.push(u32(next), ANY) === 0) next++;
      expect(q.pop(false)).toEqual(u32(expected++));
    }
  });
});

describe('DEVMAP and DEVMAP_HASH', () => {
  it('DEVMAP: a read-only struct bpf_devmap_val for the program; ifindex 0 empties a slot', () => {
    const env = testEnv(1, { programs: ['xdp_main', 'xdp_devmap_prog'] });
    const d = make<DevMap>(mapDef('DEVMAP', 4, 8, 4), env);
    expect(d.update(u32(1), u32(3, 0xffffffff), ANY, 0)).toBe(0);
    const ref = d.lookup(u32(1), 0)!;
    expect(ref.region.writable).toBe(false);
    expect(at(ref, 8)).toEqual(u32(3, 0)); // no program: id 0
    expect(d.target(1)).toEqual({ kind: 'device', ifindex: 3 });
    expect(d.update(u32(2), u32(4, 2), ANY, 0)).toBe(0); // host program fd 2 = programs[1]
    expect(d.target(2)).toEqual({ kind: 'device', ifindex: 4, program: 'xdp_devmap_prog' });
    expect(d.update(u32(2), u32(4, 9), ANY, 0)).toBe(-Errno.EINVAL);
    expect(d.update(u32(1), u32(0, 0xffffffff), ANY, 0)).toBe(0);
    expect(d.lookup(u32(1), 0)).toBeUndefined();
    expect(d.update(u32(1), u32(0, 1), ANY, 0)).toBe(-Errno.EINVAL); // a program without a device
    expect(d.update(u32(4), u32(1, 0), ANY, 0)).toBe(-Errno.E2BIG);
    expect(d.update(u32(0), u32(1, 0), NOEXIST, 0)).toBe(-Errno.EEXIST);
    expect(d.update(u32(0), u32(1, 0), 3, 0)).toBe(-Errno.EINVAL);
    expect(d.delete(u32(3), 0)).toBe(0);
    expect(d.delete(u32(4), 0)).toBe(-Errno.EINVAL);
    expect(d.keys()).toEqual([u32(2)]);
    expect(d.read(u32(2))).toEqual([u32(4, 2)]);
  });

  it('DEVMAP_HASH: any key; ifindex 0 -EINVAL; full -E2BIG; BPF_EXIST is not checked', () => {
    const d = make<DevMap>(mapDef('DEVMAP_HASH', 4, 4, 2));
    expect(d.update(u32(100), u32(1), EXIST, 0)).toBe(0);
    expect(d.update(u32(7), u32(2), ANY, 0)).toBe(0);
    expect(d.update(u32(8), u32(2), ANY, 0)).toBe(-Errno.E2BIG);
    expect(d.update(u32(7), u32(0), ANY, 0)).toBe(-Errno.EINVAL);
    expect(d.update(u32(7), u32(5), NOEXIST, 0)).toBe(-Errno.EEXIST);
    expect(d.update(u32(7), u32(5), ANY, 0)).toBe(0);
    expect(d.target(7)).toEqual({ kind: 'device', ifindex: 5 });
    expect(d.delete(u32(8), 0)).toBe(-Errno.ENOENT);
    expect(d.delete(u32(100), 0)).toBe(0);
    expect(d.keys()).toEqual([u32(7)]);
  });
});

describe('CPUMAP', () => {
  it('has cpu_map_update_elem error codes; a program cannot look into it', () => {
    const c = make<CpuMap>(mapDef('CPUMAP', 4, 4, 8), testEnv(2));
    expect(c.update(u32(0), u32(192), ANY, 0)).toBe(0);
    expect(c.lookup(u32(0), 0)).toBeUndefined();
    expect(c.target(0)).toEqual({ kind: 'cpu', cpu: 0, qsize: 192 });
    expect(c.update(u32(1), u32(20000), ANY, 0)).toBe(-Errno.EOVERFLOW);
    expect(c.update(u32(5), u32(10), ANY, 0)).toBe(-Errno.ENODEV); // not a possible CPU
    expect(c.update(u32(9), u32(10), ANY, 0)).toBe(-Errno.E2BIG);
    expect(c.update(u32(0), u32(10), NOEXIST, 0)).toBe(-Errno.EEXIST);
    expect(c.delete(u32(3), 0)).toBe(0);
    expect(c.delete(u32(9), 0)).toBe(-Errno.EINVAL);
    expect(c.read(u32(0))).toEqual([u32(192)]);
    expect(c.update(u32(0), u32(0), ANY, 0)).toBe(0); // qsize 0 deletes
    expect(c.read(u32(0))).toBeUndefined();
  });
});

describe('XSKMAP', () => {
  it('gives the program a read-only bpf_xdp_sock { queue_id }', () => {
    const x = make<XskMap>(mapDef('XSKMAP', 4, 4, 4));
    expect(x.lookup(u32(2), 0)).toBeUndefined();
    expect(x.update(u32(2), u32(55), EXIST, 0)).toBe(-Errno.ENOENT);
    expect(x.update(u32(2), u32(55), NOEXIST, 0)).toBe(0);
    expect(x.update(u32(2), u32(55), NOEXIST, 0)).toBe(0); // the same socket again
    expect(x.update(u32(2), u32(56), NOEXIST, 0)).toBe(-Errno.EEXIST);
    expect(x.update(u32(4), u32(56), ANY, 0)).toBe(-Errno.E2BIG);
    const ref = x.lookup(u32(2), 0)!;
    expect(ref.region.writable).toBe(false);
    expect(at(ref, 4)).toEqual(u32(2));
    expect(x.target(2)).toEqual({ kind: 'xsk', socket: 55, queueId: 2 });
    expect(x.delete(u32(9), 0)).toBe(-Errno.EINVAL);
    expect(x.delete(u32(2), 0)).toBe(0);
    expect(x.target(2)).toBeUndefined();
  });
});

describe('PROG_ARRAY', () => {
  it('holds programs by name for tail calls; the program cannot look into it', () => {
    const env = testEnv(1, { programs: ['main', 'v4', 'v6'] });
    const p = make<ProgArrayMap>(mapDef('PROG_ARRAY', 4, 4, 4, { initialSlots: [{ slot: 0, name: 'v4' }, { slot: 2, name: 'v6' }] }), env);
    expect(p.program(0)).toBe('v4');
    expect(p.program(1)).toBeUndefined();
    expect(p.program(2)).toBe('v6');
    expect(p.lookup(u32(0), 0)).toBeUndefined();
    expect(p.keys()).toEqual([u32(0), u32(2)]);
    expect(p.read(u32(2))).toEqual([u32(3)]); // host "id": programs index + 1
    expect(p.write(u32(1), [u32(1)], ANY)).toBe(0);
    expect(p.program(1)).toBe('main');
    expect(p.write(u32(1), [u32(1)], NOEXIST)).toBe(-Errno.EINVAL);
    expect(p.write(u32(4), [u32(1)], ANY)).toBe(-Errno.E2BIG);
    expect(p.write(u32(1), [u32(9)], ANY)).toBe(-Errno.EBADF);
    expect(p.delete(u32(3), 0)).toBe(-Errno.ENOENT);
    expect(p.delete(u32(4), 0)).toBe(-Errno.E2BIG);
    expect(p.delete(u32(1), 0)).toBe(0);
    expect(p.setProgram(3, 'v4')).toBe(0);
    expect(p.setProgram(3, 'nope')).toBe(-Errno.EBADF);
  });

  it('refuses initial slots naming programs the object does not have', () => {
    const env = testEnv(1, { programs: ['main'] });
    expect(() => make(mapDef('PROG_ARRAY', 4, 4, 4, { name: 'jmp', initialSlots: [{ slot: 0, name: 'gone' }] }), env))
      .toThrow(/map 'jmp' \(PROG_ARRAY\): initial slot 0 names program 'gone'/);
  });
});

describe('ARRAY_OF_MAPS and HASH_OF_MAPS', () => {
  const innerTemplate = { name: 'outer.inner', type: 2, keySize: 4, valueSize: 8, maxEntries: 1, flags: 0, pinning: 0 };

  it('places initial slots and gives the program the inner map handle', () => {
    const defs = [
      mapDef('ARRAY', 4, 8, 1, { index: 0, name: 'v4' }),
      mapDef('ARRAY_OF_MAPS', 4, 4, 2, { index: 1, name: 'outer', inner: innerTemplate, initialSlots: [{ slot: 1, name: 'v4' }] }),
      mapDef('ARRAY', 4, 8, 1, { index: 2, name: 'v6' }),
      mapDef('ARRAY', 4, 8, 2, { index: 3, name: 'too_big' }),
      mapDef('HASH', 4, 8, 1, { index: 4, name: 'wrong_type' }),
    ];
    const maps = createMaps(defs, { memory: new Memory(), cpus: 1 });
    const outer = maps[1] as MapInMap;
    expect(outer.lookup(u32(1), 0)).toEqual({ region: maps[0]!.handle, offset: 0 });
    expect(outer.lookup(u32(1), 0)!.region.kind).toBe(RegionKind.MAP_HANDLE);
    expect(outer.lookup(u32(0), 0)).toBeUndefined();
    expect(outer.read(u32(1))).toEqual([u32(1)]); // host "id": index + 1
    expect(outer.write(u32(0), [u32(3)], ANY)).toBe(0); // v6 by host fd
    expect(outer.inner(u32(0))).toBe(maps[2]);
    expect(outer.write(u32(0), [u32(4)], ANY)).toBe(-Errno.EINVAL); // max_entries differs
    expect(outer.write(u32(0), [u32(5)], ANY)).toBe(-Errno.EINVAL); // type differs
    expect(outer.write(u32(0), [u32(99)], ANY)).toBe(-Errno.EBADF);
    expect(outer.write(u32(0), [u32(3)], NOEXIST)).toBe(-Errno.EINVAL);
    expect(outer.write(u32(2), [u32(3)], ANY)).toBe(-Errno.E2BIG);
    expect(outer.delete(u32(0), 0)).toBe(0);
    expect(outer.delete(u32(0), 0)).toBe(-Errno.ENOENT);
    expect(outer.delete(u32(2), 0)).toBe(-Errno.E2BIG);
    expect(outer.keys()).toEqual([u32(1)]);
  });

  it('BPF_F_INNER_MAP lets array inner maps differ in max_entries', () => {
    const defs = [
      mapDef('ARRAY', 4, 8, 16, { index: 0, name: 'a16', flags: MapFlag.INNER_MAP }),
      mapDef('ARRAY_OF_MAPS', 4, 4, 1, { index: 1, name: 'o', inner: { ...innerTemplate, flags: MapFlag.INNER_MAP } }),
    ];
    const maps = createMaps(defs, { memory: new Memory(), cpus: 1 });
    expect((maps[1] as MapInMap).write(u32(0), [u32(1)], ANY)).toBe(0);
  });

  it('HASH_OF_MAPS has the hash flag semantics', () => {
    const defs = [
      mapDef('HASH', 4, 4, 8, { index: 0, name: 'inner_a' }),
      mapDef('HASH_OF_MAPS', 4, 4, 1, { index: 1, name: 'o', inner: { ...innerTemplate, type: 1, valueSize: 4, maxEntries: 4 } }),
    ];
    const maps = createMaps(defs, { memory: new Memory(), cpus: 1 });
    const o = maps[1] as MapInMap;
    expect(o.write(u32(77), [u32(1)], EXIST)).toBe(-Errno.ENOENT);
    expect(o.write(u32(77), [u32(1)], ANY)).toBe(0); // hashes may differ in max_entries
    expect(o.write(u32(77), [u32(1)], NOEXIST)).toBe(-Errno.EEXIST);
    expect(o.write(u32(78), [u32(1)], ANY)).toBe(-Errno.E2BIG);
    expect(o.delete(u32(78), 0)).toBe(-Errno.ENOENT);
  });

  it('refuses initial slots naming a missing or mismatching map', () => {
    const bad = [
      mapDef('ARRAY', 4, 4, 1, { index: 0, name: 'wrong_value' }),
      mapDef('ARRAY_OF_MAPS', 4, 4, 2, { index: 1, name: 'outer', inner: innerTemplate, initialSlots: [{ slot: 0, name: 'wrong_value' }] }),
    ];
    expect(() => createMaps(bad, { memory: new Memory(), cpus: 1 })).toThrow(MapDefError);
    expect(() => createMaps(bad, { memory: new Memory(), cpus: 1 }))
      .toThrow(/map 'outer' \(ARRAY_OF_MAPS\): initial slot 0: map 'wrong_value' does not match the inner map template: value_size 4 \(template 8\)/);
    const missing = [mapDef('ARRAY_OF_MAPS', 4, 4, 2, { index: 0, name: 'outer', inner: innerTemplate, initialSlots: [{ slot: 0, name: 'ghost' }] })];
    expect(() => createMaps(missing, { memory: new Memory(), cpus: 1 })).toThrow(/names map 'ghost', which the object does not define/);
  });
});

describe('RINGBUF', () => {
  const ring = (size = 4096): RingBufMap => make<RingBufMap>(mapDef('RINGBUF', 0, 0, size));

  it('reserves records in a RINGBUF region; submit, discard, consume', () => {
    const r = ring();
    const a = r.reserve(5, 0)!;
    expect(a.region.kind).toBe(RegionKind.RINGBUF);
    expect(a.offset).toBe(8); // after the 8-byte header
    a.region.bytes.set([1, 2, 3, 4, 5], a.offset);
    const b = r.reserve(3, 0)!;
    expect(b.offset).toBe(16 + 8); // the first took round_up(5 + 8, 8) = 16 bytes
    b.region.bytes.set([9, 9, 9], b.offset);
    expect(r.records()).toEqual([]); // the first record is still reserved
    expect(r.commit(b, false)).toBe(0);
    expect(r.records()).toEqual([]);
    expect(r.commit(a, false)).toBe(0);
    expect(r.records()).toEqual([bytes(1, 2, 3, 4, 5), bytes(9, 9, 9)]);
    expect(r.commit(a, false)).toBe(-Errno.EINVAL); // not reserved any more
    const c = r.reserve(1, 0)!;
    expect(r.commit(c, true)).toBe(0);
    expect(r.output(bytes(7), 0)).toBe(0);
    expect(r.query(RingbufQuery.AVAIL_DATA)).toBe(16 + 16 + 16 + 16);
    expect(r.consume()).toEqual([bytes(1, 2, 3, 4, 5), bytes(9, 9, 9), bytes(7)]);
    expect(r.query(RingbufQuery.AVAIL_DATA)).toBe(0);
    expect(r.query(RingbufQuery.CONS_POS)).toBe(64);
    expect(r.query(RingbufQuery.RING_SIZE)).toBe(4096);
  });

  it('refuses what bpf_ringbuf_reserve / _output / _reserve_dynptr refuse', () => {
    const r = ring();
    expect(r.reserve(8, 1)).toBeUndefined();
    expect(r.reserve(4096, 0)).toBeUndefined(); // record larger than the ring
    expect(r.reserve(2 ** 31, 0)).toBeUndefined(); // beyond RINGBUF_MAX_RECORD_SZ
    expect(r.output(bytes(1), 4)).toBe(-Errno.EINVAL);
    expect(r.reserveDynptr(8, 1)).toBe(-Errno.EINVAL);
    expect(r.reserveDynptr(1 << 24, 0)).toBe(-Errno.E2BIG);
    // fill it: at most size - 1 bytes ahead of the consumer
    let n = 0;
    while (r.output(new Uint8Array(120), 0) === 0) n++;
    expect(n).toBe(31); // 31 * 128 = 3968; a 32nd would reach 4096
    let small = 0;
    while (r.output(bytes(1), 0) === 0) small++;
    expect(small).toBe(7); // 16 bytes each: 3968 + 7 * 16 = 4080, an 8th would reach 4096
    expect(r.output(bytes(1), 0)).toBe(-Errno.EAGAIN);
    expect(r.reserve(1, 0)).toBeUndefined();
    expect(r.reserveDynptr(1, 0)).toBe(-Errno.EAGAIN);
    r.consume();
    expect(r.output(new Uint8Array(120), 0)).toBe(0);
  });

  it('keeps a record that wraps past the end contiguous', () => {
    const r = ring();
    for (let i = 0; i < 31; i++) r.output(new Uint8Array(120), 0);
    r.consume();
    const big = r.reserve(200, 0)!; // starts at 3968, runs past 4096
    big.region.bytes.fill(0xaa, big.offset, big.offset + 200);
    r.commit(big, false);
    expect(r.records()).toEqual([new Uint8Array(200).fill(0xaa)]);
    expect(r.update()).toBe(-Errno.ENOTSUPP);
    expect(r.lookup(new Uint8Array(0), 0)).toBeUndefined();
  });
});

describe('PERF_EVENT_ARRAY', () => {
  it('writes samples to the calling CPU slot; other CPUs -EOPNOTSUPP, beyond -E2BIG', () => {
    const p = make<PerfEventArrayMap>(mapDef('PERF_EVENT_ARRAY', 4, 4, 0), testEnv(4));
    expect(p.def.maxEntries).toBe(4); // libbpf sizes it to the CPU count
    expect(p.output(BPF_F_CURRENT_CPU, 2, bytes(1, 2))).toBe(0);
    expect(p.output(1, 1, bytes(3))).toBe(0);
    expect(p.output(1, 2, bytes(3))).toBe(-Errno.EOPNOTSUPP);
    expect(p.output(4, 2, bytes(3))).toBe(-Errno.E2BIG);
    expect(p.events()).toEqual([{ cpu: 2, data: bytes(1, 2) }, { cpu: 1, data: bytes(3) }]);
    expect(p.consume()).toHaveLength(2);
    expect(p.events()).toEqual([]);
  });

  it('a slot beyond the CPUs has no event: -ENOENT', () => {
    const p = make<PerfEventArrayMap>(mapDef('PERF_EVENT_ARRAY', 4, 4, 8), testEnv(2));
    expect(p.output(5, 1, bytes(1))).toBe(-Errno.ENOENT);
  });
});

describe('maps without an operation', () => {
  it('answer -EINVAL for push/pop and NULL for lookup', () => {
    const d = make(mapDef('DEVMAP', 4, 4, 1));
    expect(d.push(u32(1), 0)).toBe(-Errno.EINVAL);
    expect(d.pop(true)).toBe(-Errno.EINVAL);
    const h = make(mapDef('HASH', 4, 8, 1));
    expect(h.push(u64(1), 0)).toBe(-Errno.EINVAL);
  });
});
