/**
 * The host maps against the running kernel's, through bpftool: the same
 * definitions accepted or refused with the same errno, the same operation
 * sequences giving the same return codes and contents (HASH full, NOEXIST and
 * EXIST, array deletes, per-CPU values, LRU, LPM matches and walk order, queue
 * and stack order, devmap/cpumap rules, map-in-map template checks), and the
 * JSON rendering of BTF-typed keys and values equal to `bpftool map dump -j`'s
 * "formatted" output for maps libbpf created from the fixture objects and from
 * a test object with every kind of type.
 *
 * Needs root, bpftool and a bpf filesystem at /sys/fs/bpf (and clang for the
 * test object); without them the reason is printed and the checks are skipped.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { btfToJson } from '../../xdp/btf/btf-value.js';
import type { BpfMap } from '../../xdp/maps/bpf-map.js';
import { createMap, createMaps } from '../../xdp/maps/create-map.js';
import { formatJson, type JsonValue } from '../../xdp/maps/json-text.js';
import { MapDefError } from '../../xdp/maps/map-errors.js';
import { MapInMap } from '../../xdp/maps/map-in-map.js';
import { dumpMap, LIBBPF_NO_BTF_TYPES, loadMaps } from '../../xdp/maps/map-json.js';
import { MAP_TYPE, MapFlag } from '../../xdp/maps/map-types.js';
import { validateMapDef } from '../../xdp/maps/map-validate.js';
import { QueueStackMap } from '../../xdp/maps/queue-stack-map.js';
import type { MapDef } from '../../xdp/object/bpf-object.js';
import { loadObjectFile, type LoadedObject } from '../../xdp/object/load-object.js';
import { Memory } from '../../xdp/runtime/memory.js';
import { FIXTURE_OBJ, hasCommand } from '../support/paths.js';
import { bytes, hex, mapDef, testEnv, u32, type MapTypeName } from './helpers.js';
import { KernelMap, KernelMaps, kernelUnavailable, possibleCpus, type UpdateFlagName } from './kernel-maps.js';

const why = kernelUnavailable();
if (why !== undefined) console.log(`maps kernel-diff: SKIP comparisons with the kernel: ${why}`);
const CPUS = why === undefined ? possibleCpus() : 1;
const kernel = why === undefined ? new KernelMaps('diff') : undefined;
afterAll(() => kernel?.cleanup());

const F = MapFlag;

// ------------------------------------------------------------------ definitions

/** [type, key, value, max_entries, flags] */
const DEFS: [MapTypeName, number, number, number, number][] = [
  ['ARRAY', 4, 8, 1, 0], ['ARRAY', 8, 8, 1, 0], ['ARRAY', 4, 0, 1, 0], ['ARRAY', 4, 8, 0, 0],
  ['ARRAY', 4, 8, 1, F.NO_PREALLOC], ['ARRAY', 4, 8, 1, F.MMAPABLE], ['ARRAY', 4, 8, 1, F.RDONLY | F.WRONLY],
  ['ARRAY', 4, 8, 1, F.RDONLY_PROG | F.WRONLY_PROG], ['ARRAY', 4, 8, 1, F.PRESERVE_ELEMS], ['ARRAY', 4, 8, 1, F.INNER_MAP],
  ['PERCPU_ARRAY', 4, 8, 1, F.MMAPABLE], ['PERCPU_ARRAY', 4, 32769, 1, 0], ['PERCPU_ARRAY', 4, 32768, 1, 0],
  ['HASH', 4, 8, 1, F.NO_PREALLOC], ['HASH', 0, 8, 1, 0], ['HASH', 4, 0, 1, 0], ['HASH', 4, 8, 0, 0],
  ['HASH', 4, 8, 1, F.NO_COMMON_LRU], ['HASH', 4, 8, 1, F.MMAPABLE], ['HASH', 4, 4 << 20, 1, 0], ['HASH', 4, (4 << 20) - 100, 1, 0],
  ['LRU_HASH', 4, 8, 1, F.NO_PREALLOC], ['LRU_HASH', 4, 8, 4, F.NO_COMMON_LRU], ['PERCPU_HASH', 4, 40000, 1, 0],
  ['LRU_PERCPU_HASH', 4, 8, 1, 0],
  ['LPM_TRIE', 8, 4, 1, F.NO_PREALLOC], ['LPM_TRIE', 8, 4, 1, 0], ['LPM_TRIE', 4, 4, 1, F.NO_PREALLOC],
  ['LPM_TRIE', 261, 4, 1, F.NO_PREALLOC], ['LPM_TRIE', 260, 4, 1, F.NO_PREALLOC], ['LPM_TRIE', 8, 0, 1, F.NO_PREALLOC],
  ['QUEUE', 0, 4, 1, 0], ['QUEUE', 4, 4, 1, 0], ['STACK', 0, 0, 1, 0], ['STACK', 0, 4, 1, F.NO_PREALLOC], ['STACK', 0, 4, 0, 0],
  ['RINGBUF', 0, 0, 4096, 0], ['RINGBUF', 0, 0, 12288, 0], ['RINGBUF', 0, 0, 1000, 0], ['RINGBUF', 4, 0, 4096, 0],
  ['RINGBUF', 0, 0, 4096, F.NO_PREALLOC],
  ['DEVMAP', 4, 8, 1, 0], ['DEVMAP', 4, 12, 1, 0], ['DEVMAP_HASH', 8, 4, 1, 0], ['DEVMAP', 4, 4, 1, F.NO_PREALLOC],
  ['DEVMAP_HASH', 4, 4, 1, F.RDONLY],
  ['CPUMAP', 4, 4, 4, 0], ['CPUMAP', 4, 12, 4, 0], ['CPUMAP', 4, 8, 4, F.RDONLY],
  ['XSKMAP', 4, 4, 1, 0], ['XSKMAP', 4, 8, 1, 0],
  ['PROG_ARRAY', 4, 4, 1, 0], ['PROG_ARRAY', 4, 8, 1, 0], ['PROG_ARRAY', 4, 4, 1, F.RDONLY_PROG],
  ['PERF_EVENT_ARRAY', 4, 4, 2, F.PRESERVE_ELEMS], ['PERF_EVENT_ARRAY', 8, 4, 2, 0],
];

describe.runIf(why === undefined)('definitions: the kernel and the host accept and refuse the same', () => {
  it.each(DEFS.map((d) => [`${d[0]} key ${d[1]} value ${d[2]} entries ${d[3]} flags ${d[4]}`, d] as const))('%s', (_n, d) => {
    const [type, key, value, max, flags] = d;
    const k = kernel!.create(type.toLowerCase(), key, value, max, flags);
    const kernelErrno = typeof k === 'number' ? k : 0;
    let hostErrno = 0;
    try {
      validateMapDef(mapDef(type, key, value, max, { flags }), CPUS);
    } catch (e) {
      if (!(e instanceof MapDefError)) throw e;
      hostErrno = -e.errno;
    }
    expect(hostErrno).toBe(kernelErrno);
  });

  it('map-in-map: a value size other than 4 is refused; the inner template is required', () => {
    const inner = kernel!.create('array', 4, 8, 1) as KernelMap;
    expect(kernel!.create('array_of_maps', 4, 8, 2, 0, inner.path)).toBe(-22);
    expect(kernel!.create('hash_of_maps', 4, 4, 2, 0, inner.path)).toBeInstanceOf(KernelMap);
    const template = { name: 'i', type: MAP_TYPE.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1, flags: 0, pinning: 0 };
    expect(() => validateMapDef(mapDef('ARRAY_OF_MAPS', 4, 8, 2, { inner: template }), CPUS)).toThrow(/value_size 8: expected 4/);
    expect(() => validateMapDef(mapDef('HASH_OF_MAPS', 4, 4, 2, { inner: template }), CPUS)).not.toThrow();
  });
});

// ------------------------------------------------------------------ operations

type Step =
  | { op: 'update'; key: Uint8Array; value: Uint8Array; flag?: UpdateFlagName }
  | { op: 'delete'; key: Uint8Array }
  | { op: 'lookup'; key: Uint8Array };

const FLAG_BITS: Record<UpdateFlagName, number> = { any: 0, noexist: 1, exist: 2 };

function hostStep(m: BpfMap, s: Step): number | string[] {
  switch (s.op) {
    case 'update': return m.write(s.key, [s.value], FLAG_BITS[s.flag ?? 'any']);
    case 'delete': return m.delete(s.key, 0);
    case 'lookup': return m.read(s.key)?.map(hex) ?? -2;
  }
}

function kernelStep(k: KernelMap, s: Step): number | string[] {
  switch (s.op) {
    case 'update': return k.update(s.key, s.value, s.flag ?? 'any');
    case 'delete': return k.delete(s.key);
    case 'lookup': {
      const r = k.lookup(s.key);
      return typeof r === 'number' ? r : r.map(hex);
    }
  }
}

/** Run `steps` on a fresh kernel map and a fresh host map; every result and the final contents must agree. */
function compare(type: MapTypeName, key: number, value: number, max: number, flags: number, steps: Step[], order: 'exact' | 'set' = 'set'): { host: BpfMap; kernel: KernelMap } {
  const k = kernel!.create(type.toLowerCase(), key, value, max, flags);
  if (typeof k === 'number') throw new Error(`the kernel refused ${type}: ${k}`);
  const host = createMap(mapDef(type, key, value, max, { flags }), testEnv(CPUS));
  steps.forEach((s, i) => {
    expect(hostStep(host, s), `step ${i}: ${s.op} ${hex(s.key)}`).toEqual(kernelStep(k, s));
  });
  const want = k.entries().map((e) => `${hex(e.key)}=${e.values.map(hex).join(',')}`);
  const got = host.keys().map((kk) => `${hex(kk)}=${host.read(kk)!.map(hex).join(',')}`);
  if (order === 'exact') expect(got).toEqual(want);
  else expect([...got].sort()).toEqual([...want].sort());
  return { host, kernel: k };
}

const up = (key: Uint8Array, value: Uint8Array, flag?: UpdateFlagName): Step => ({ op: 'update', key, value, ...(flag ? { flag } : {}) });
const del = (key: Uint8Array): Step => ({ op: 'delete', key });
const get = (key: Uint8Array): Step => ({ op: 'lookup', key });
const lpmKey = (prefixlen: number, ...data: number[]): Uint8Array => new Uint8Array([...u32(prefixlen), ...data]);

describe.runIf(why === undefined)('operations: the same results as the kernel', () => {
  it('HASH: full -E2BIG, replacing when full, NOEXIST/EXIST, delete of a missing key', () => {
    compare('HASH', 4, 8, 2, 0, [
      up(u32(1), bytes(1, 0, 0, 0, 0, 0, 0, 0), 'exist'), up(u32(1), bytes(1, 0, 0, 0, 0, 0, 0, 0), 'noexist'),
      up(u32(1), bytes(2, 0, 0, 0, 0, 0, 0, 0), 'noexist'), up(u32(2), bytes(2, 2, 2, 2, 2, 2, 2, 2)),
      up(u32(3), bytes(3, 0, 0, 0, 0, 0, 0, 0)), up(u32(1), bytes(9, 9, 9, 9, 0, 0, 0, 0)),
      up(u32(2), bytes(8, 8, 8, 8, 0, 0, 0, 0), 'exist'), get(u32(1)), get(u32(3)), del(u32(3)), del(u32(1)),
      up(u32(3), bytes(3, 3, 3, 3, 3, 3, 3, 3), 'noexist'), get(u32(3)),
    ]);
    compare('HASH', 4, 8, 2, F.NO_PREALLOC, [
      up(u32(1), bytes(1, 0, 0, 0, 0, 0, 0, 0)), up(u32(2), bytes(2, 0, 0, 0, 0, 0, 0, 0)),
      up(u32(3), bytes(3, 0, 0, 0, 0, 0, 0, 0)), up(u32(2), bytes(5, 0, 0, 0, 0, 0, 0, 0)),
    ]);
  });

  it('ARRAY: out of range -E2BIG, NOEXIST -EEXIST, delete -EINVAL, contents by index', () => {
    compare('ARRAY', 4, 4, 3, 0, [
      up(u32(3), u32(1)), up(u32(0), u32(1), 'noexist'), up(u32(0), u32(7)), up(u32(2), u32(9), 'exist'),
      del(u32(0)), del(u32(5)), get(u32(0)), get(u32(3)),
    ], 'exact');
  });

  it('per-CPU maps: one value per possible CPU', () => {
    compare('PERCPU_ARRAY', 4, 4, 2, 0, [up(u32(1), u32(5)), get(u32(1)), get(u32(0)), up(u32(2), u32(1))], 'exact');
    compare('PERCPU_HASH', 4, 4, 2, 0, [up(u32(1), u32(5)), up(u32(2), u32(6)), up(u32(3), u32(7)), get(u32(1)), up(u32(1), u32(8), 'exist'), del(u32(2)), del(u32(2))]);
    compare('LRU_PERCPU_HASH', 4, 4, 8, 0, [up(u32(1), u32(5)), get(u32(1)), up(u32(1), u32(8), 'noexist'), del(u32(9))]);
  });

  it('LRU_HASH: never -E2BIG, at most max_entries keys (which ones: see docs/maps.md)', () => {
    const k = kernel!.create('lru_hash', 4, 4, 4) as KernelMap;
    const host = createMap(mapDef('LRU_HASH', 4, 4, 4), testEnv(CPUS));
    for (let i = 0; i < 12; i++) expect(host.write(u32(i), [u32(i)], 0)).toBe(k.update(u32(i), u32(i)));
    const kernelKeys = k.entries().map((e) => e.key[0]!).sort((a, b) => a - b);
    const hostKeys = host.keys().map((kk) => kk[0]!).sort((a, b) => a - b);
    expect(kernelKeys.length).toBeLessThanOrEqual(4);
    expect(hostKeys).toEqual([8, 9, 10, 11]);
    console.log(`maps kernel-diff: LRU_HASH after 12 inserts into 4 slots: kernel kept ${kernelKeys.join(',')}, host (exact LRU) ${hostKeys.join(',')}`);
    // BPF_NOEXIST then answers from what each side kept: the kernel's LRU is approximate (per-CPU
    // free lists), so whether it still holds an early key depends on the CPU the test ran on.
    for (const e of [1, 2]) {
      const held = k.entries().map((x) => x.key[0]!);
      expect(k.update(u32(e), u32(0), 'noexist'), `kernel holds ${held.join(',')}`).toBe(held.includes(e) ? -17 : 0);
      expect(host.write(u32(e), [u32(0)], 1)).toBe(0);
    }
  });

  it('LPM_TRIE: longest-prefix lookups, -ENOSPC when full, flags, and the walk order', () => {
    compare('LPM_TRIE', 8, 4, 5, F.NO_PREALLOC, [
      up(lpmKey(8, 10, 0, 0, 0), u32(8)), up(lpmKey(16, 10, 1, 0, 0), u32(16)), up(lpmKey(24, 10, 1, 2, 0), u32(24)),
      up(lpmKey(24, 10, 1, 128, 0), u32(25)), up(lpmKey(12, 10, 0x30, 0, 0), u32(12)),
      up(lpmKey(32, 10, 1, 2, 3), u32(32)), up(lpmKey(24, 10, 1, 2, 99), u32(99), 'noexist'), up(lpmKey(24, 10, 1, 2, 99), u32(98), 'exist'),
      up(lpmKey(32, 9, 9, 9, 9), u32(1), 'exist'), up(lpmKey(33, 10, 1, 2, 3), u32(1)),
      get(lpmKey(32, 10, 1, 2, 3)), get(lpmKey(32, 10, 1, 3, 3)), get(lpmKey(32, 10, 9, 9, 9)), get(lpmKey(32, 10, 0x3f, 0, 0)),
      get(lpmKey(32, 11, 0, 0, 0)), get(lpmKey(20, 10, 1, 2, 3)), get(lpmKey(33, 10, 1, 2, 3)),
      del(lpmKey(24, 10, 1, 3, 0)), del(lpmKey(33, 10, 1, 3, 0)), del(lpmKey(12, 10, 0x3f, 0xff, 0xff)),
      up(lpmKey(0, 0, 0, 0, 0), u32(0)), get(lpmKey(32, 11, 0, 0, 0)),
    ], 'exact');
  });

  it('QUEUE and STACK: order, -E2BIG when full, -ENOENT when empty', () => {
    for (const type of ['QUEUE', 'STACK'] as const) {
      const k = kernel!.create(type.toLowerCase(), 0, 4, 3) as KernelMap;
      const host = createMap(mapDef(type, 0, 4, 3), testEnv(CPUS)) as QueueStackMap;
      const results: [unknown, unknown][] = [];
      const take = (peek: boolean): void => {
        const h = host.pop(peek);
        const kk = k.take(peek);
        results.push([typeof h === 'number' ? h : hex(h), typeof kk === 'number' ? kk : hex(kk)]);
      };
      take(false);
      for (const v of [1, 2, 3, 4]) results.push([host.write(new Uint8Array(0), [u32(v)], 0), k.push(u32(v))]);
      take(true);
      take(false);
      results.push([host.write(new Uint8Array(0), [u32(5)], 0), k.push(u32(5))]);
      for (let i = 0; i < 4; i++) take(false);
      for (const [h, kk] of results) expect(h).toEqual(kk);
    }
  });

  it('DEVMAP and DEVMAP_HASH (ifindex 1, the loopback device)', () => {
    compare('DEVMAP', 4, 8, 4, 0, [
      up(u32(0), u32(1, 0xffffffff)), up(u32(1), u32(1, 0)), up(u32(2), u32(0, 0xffffffff)), up(u32(3), u32(0, 0)),
      up(u32(4), u32(1, 0)), up(u32(0), u32(1, 0), 'noexist'), up(u32(0), u32(1, 0), 'exist'), get(u32(0)), get(u32(2)),
      del(u32(1)), del(u32(3)), del(u32(4)), up(u32(0), u32(0, 0xffffffff)),
    ]);
    compare('DEVMAP', 4, 4, 2, 0, [up(u32(1), u32(1)), get(u32(1)), up(u32(1), u32(0)), get(u32(1))]);
    compare('DEVMAP_HASH', 4, 4, 2, 0, [
      up(u32(100), u32(1), 'exist'), up(u32(7), u32(1)), up(u32(8), u32(1)), up(u32(7), u32(0)), up(u32(7), u32(1), 'noexist'),
      del(u32(8)), del(u32(100)), up(u32(8), u32(1)), get(u32(8)),
    ]);
  });

  it('CPUMAP: queue size limit, possible CPUs, deletes', () => {
    const impossible = CPUS < 8 ? CPUS : 7;
    compare('CPUMAP', 4, 4, 8, 0, [
      up(u32(0), u32(192)), up(u32(0), u32(20000)), up(u32(impossible), u32(10)), up(u32(8), u32(10)), up(u32(0), u32(10), 'noexist'),
      get(u32(0)), del(u32(3)), del(u32(9)), up(u32(1 % CPUS), u32(64)), up(u32(0), u32(0)), get(u32(0)),
    ]);
  });

  it('PROG_ARRAY deletes: an empty slot -ENOENT, beyond max_entries -E2BIG', () => {
    compare('PROG_ARRAY', 4, 4, 2, 0, [del(u32(0)), del(u32(5))]);
  });

  it('ARRAY_OF_MAPS and HASH_OF_MAPS: the inner map template decides', () => {
    const template = kernel!.create('array', 4, 8, 1) as KernelMap;
    const same = kernel!.create('array', 4, 8, 1) as KernelMap;
    const bigger = kernel!.create('array', 4, 8, 2) as KernelMap;
    const otherValue = kernel!.create('array', 4, 4, 1) as KernelMap;
    const hash = kernel!.create('hash', 4, 8, 1) as KernelMap;
    const aom = kernel!.create('array_of_maps', 4, 4, 2, 0, template.path) as KernelMap;
    const tmpl = { name: 'tmpl', type: MAP_TYPE.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1, flags: 0, pinning: 0 };
    const hostMaps = createMaps([
      mapDef('ARRAY', 4, 8, 1, { index: 0, name: 'same' }), mapDef('ARRAY', 4, 8, 2, { index: 1, name: 'bigger' }),
      mapDef('ARRAY', 4, 4, 1, { index: 2, name: 'other_value' }), mapDef('HASH', 4, 8, 1, { index: 3, name: 'hash' }),
      mapDef('ARRAY_OF_MAPS', 4, 4, 2, { index: 4, name: 'aom', inner: tmpl }),
    ], { memory: new Memory(), cpus: CPUS });
    const outer = hostMaps[4] as MapInMap;
    const pairs: [KernelMap, number][] = [[same, 1], [bigger, 2], [otherValue, 3], [hash, 4]];
    for (const [km, fd] of pairs) expect(outer.write(u32(0), [u32(fd)], 0)).toBe(aom.updateWithMap(u32(0), km.path));
    expect(outer.write(u32(2), [u32(1)], 0)).toBe(aom.updateWithMap(u32(2), same.path));
    expect(outer.delete(u32(1), 0)).toBe(aom.delete(u32(1)));
    expect(outer.delete(u32(0), 0)).toBe(aom.delete(u32(0)));

    const hashTmpl = kernel!.create('hash', 4, 8, 4) as KernelMap;
    const hom = kernel!.create('hash_of_maps', 4, 4, 1, 0, hashTmpl.path) as KernelMap;
    const hostHom = createMaps([
      mapDef('HASH', 4, 8, 1, { index: 0, name: 'hash' }),
      mapDef('HASH_OF_MAPS', 4, 4, 1, { index: 1, name: 'hom', inner: { ...tmpl, type: MAP_TYPE.HASH, maxEntries: 4 } }),
    ], { memory: new Memory(), cpus: CPUS })[1] as MapInMap;
    expect(hostHom.write(u32(5), [u32(1)], 0)).toBe(hom.updateWithMap(u32(5), hash.path)); // hashes may differ in max_entries
    expect(hostHom.write(u32(6), [u32(1)], 0)).toBe(hom.updateWithMap(u32(6), hash.path)); // full
    expect(hostHom.delete(u32(6), 0)).toBe(hom.delete(u32(6)));
  });
});

// ------------------------------------------------------------------ JSON rendering

const TYPES_C = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

typedef unsigned char u8_t;
enum color { RED = 0, GREEN = 1, BLUE = 7 };
enum sgn { NEG = -5, ONE = 1 };
struct bits {
	unsigned int a : 3;
	unsigned int b : 5;
	int c : 7;
	unsigned long long d : 40;
	_Bool flag;
	char tag;
};
union num { __u32 u; __s16 s[2]; unsigned char raw[4]; };
struct point { __u16 x; __u16 y; };
struct rich {
	__u64 big;
	__s64 neg;
	__s32 i32;
	__u16 port;
	__s8 s8;
	char name[8];
	unsigned char bytes4[4];
	u8_t td[2];
	enum color color;
	enum sgn sgn;
	struct bits bits;
	union num num;
	__u32 matrix[2][3];
	struct point pt;
	union { __u32 anon_u; __u8 anon_b[4]; };
	void *ptr;
};
struct key2 { __u32 id; char label[4]; };

struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 64); __type(key, struct key2); __type(value, struct rich); } rich_hash SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __uint(max_entries, 4); __type(key, __u32); __type(value, struct bits); } bits_pcpu SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 4); __type(key, __u32); __type(value, union num); } num_array SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_LRU_HASH); __uint(max_entries, 16); __type(key, __u64); __type(value, char[16]); } str_lru SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 8); __type(key, enum color); __type(value, __s64); } enum_hash SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_LPM_TRIE); __uint(max_entries, 8); __uint(map_flags, BPF_F_NO_PREALLOC); __type(key, struct key2); __type(value, __u32); } lpm_typed SEC(".maps");

SEC("xdp")
int xdp_types(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
`;

const HAVE_CLANG = hasCommand('clang');
if (why === undefined && !HAVE_CLANG) console.log('maps kernel-diff: SKIP the rich-type object: clang not found');

let seed = 0x1234567;
function random(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed >>> 24;
  });
}

/**
 * Load `objectPath` with bpftool (libbpf creates the maps, with BTF) and pin its maps under one
 * directory by name; undefined if it cannot. When `pinmaps` collides with a map the object pins by
 * name (LIBBPF_PIN_BY_NAME, already pinned at the bpffs root), the object is loaded without it and
 * the newest kernel map of each name is pinned instead.
 */
function loadWithBpftool(objectPath: string, tag: string, names: readonly string[]): string | undefined {
  const dir = join(kernel!.dir, tag);
  mkdirSync(dir, { recursive: true });
  const maps = join(dir, 'maps');
  let r = spawnSync('bpftool', ['prog', 'loadall', objectPath, join(dir, 'progs'), 'pinmaps', maps], { encoding: 'utf8' });
  if (r.status !== 0 && /already has pin path/.test(r.stderr)) {
    r = spawnSync('bpftool', ['prog', 'loadall', objectPath, join(dir, 'progs2')], { encoding: 'utf8' });
    if (r.status === 0) {
      mkdirSync(maps, { recursive: true });
      const all = JSON.parse(spawnSync('bpftool', ['map', 'show', '-j'], { encoding: 'utf8' }).stdout) as { id: number; name?: string }[];
      for (const name of names) {
        const newest = all.filter((m) => m.name === name.slice(0, 15)).sort((a, b) => b.id - a.id)[0];
        if (newest !== undefined) spawnSync('bpftool', ['map', 'pin', 'id', String(newest.id), join(maps, name)]);
      }
    }
  }
  if (r.status !== 0) {
    console.log(`maps kernel-diff: SKIP ${tag}: bpftool could not load it: ${r.stderr.split('\n').slice(-3).join(' ')}`);
    return undefined;
  }
  return maps;
}

/** Entries to write into a map: random bytes, plus crafted ones for strings. */
function sampleEntries(def: MapDef): { key: Uint8Array; value: Uint8Array }[] {
  const n = def.type === MAP_TYPE.ARRAY || def.type === MAP_TYPE.PERCPU_ARRAY ? Math.min(def.maxEntries, 6) : Math.min(def.maxEntries, 8);
  const out: { key: Uint8Array; value: Uint8Array }[] = [];
  for (let i = 0; i < n; i++) {
    let key = random(def.keySize);
    if (def.type === MAP_TYPE.ARRAY || def.type === MAP_TYPE.PERCPU_ARRAY) key = u32(i);
    if (def.type === MAP_TYPE.LPM_TRIE) key.set(u32(8 * (i % 9)), 0);
    const value = random(def.valueSize);
    if (i % 3 === 1) {
      // printable text with a NUL: bpftool shows char arrays holding it as strings
      for (let j = 0; j < value.length; j++) value[j] = j % 7 === 6 ? 0 : 0x61 + ((j + i) % 26);
      for (let j = 0; j < key.length; j++) if (def.type !== MAP_TYPE.LPM_TRIE || j >= 4) key[j] = j % 4 === 3 ? 0 : 0x41 + j;
    }
    if (i % 3 === 2) value.fill(0, 0, Math.min(value.length, 8)); // small numbers, zero enums
    out.push({ key, value });
  }
  return out;
}

const canonical = (v: unknown): string => formatJson(v, 0);

/** For every BTF-typed map: write entries through bpftool, compare bpftool's formatted dump with ours. */
function compareRendering(obj: LoadedObject, pinDir: string): number {
  let compared = 0;
  const names: string[] = [];
  const hostMaps = createMaps(obj.maps, { memory: new Memory(), cpus: CPUS, programs: obj.programs.map((p) => p.name) });
  for (const def of obj.maps) {
    if (def.origin === 'global-data' || LIBBPF_NO_BTF_TYPES.has(def.type) || def.valueTypeId === undefined) continue;
    if (!existsSync(join(pinDir, def.name))) continue;
    const km = new KernelMap(join(pinDir, def.name));
    const host = hostMaps[def.index]!;
    names.push(def.name);
    for (const e of sampleEntries(def)) {
      const rc = km.update(e.key, e.value);
      expect(host.write(e.key, [e.value], 0), `${def.name} ${hex(e.key)}`).toBe(rc);
    }
    const dumped = km.dumpJson() as { key: string[]; value?: string[]; values?: { cpu: number; value: string[] }[]; formatted: { key?: JsonValue; value?: JsonValue; values?: JsonValue[] } }[];
    expect(dumped.length).toBeGreaterThan(0);
    for (const e of dumped) {
      const raw = (a: string[]): Uint8Array => Uint8Array.from(a, (s) => parseInt(s, 16));
      expect(e.formatted, `${def.name}: bpftool printed no formatted part`).toBeDefined();
      if (def.keyTypeId !== undefined) expect(canonical(btfToJson(obj.btf!, def.keyTypeId, raw(e.key)))).toBe(canonical(e.formatted.key));
      if (e.values !== undefined) {
        expect(canonical(e.values.map((v) => ({ cpu: v.cpu, value: btfToJson(obj.btf!, def.valueTypeId!, raw(v.value)) })))).toBe(canonical(e.formatted.values));
      } else {
        expect(canonical(btfToJson(obj.btf!, def.valueTypeId!, raw(e.value!)))).toBe(canonical(e.formatted.value));
      }
      compared++;
    }
    // the host map's own dump has the same entries as bpftool's formatted dump
    const ours = dumpMap(host, obj.btf).entries.map(canonical).sort();
    const theirs = dumped.map((e) => canonical(e.formatted.values !== undefined ? { key: e.formatted.key, values: e.formatted.values } : { key: e.formatted.key, value: e.formatted.value })).sort();
    expect(ours).toEqual(theirs);
    // and what we print loads back to the same bytes
    const again = createMaps(obj.maps, { memory: new Memory(), cpus: CPUS, programs: obj.programs.map((p) => p.name) });
    loadMaps(again, { maps: [dumpMap(host, obj.btf)] }, obj.btf, 'roundtrip.json');
    expect(canonical(dumpMap(again[def.index]!, obj.btf))).toBe(canonical(dumpMap(host, obj.btf)));
  }
  console.log(`maps kernel-diff: ${obj.file.split('/').pop()}: ${compared} entries of ${names.join(', ')} rendered as bpftool renders them`);
  return compared;
}

describe.runIf(why === undefined)('JSON rendering equals bpftool map dump -j', () => {
  const FIXTURES = ['flow_lru', 'firewall_5tuple', 'proto_count_array', 'proto_count_percpu', 'ipv6_ext_walk', 'map_in_map'];
  it.each(FIXTURES)('%s', (name) => {
    const path = join(FIXTURE_OBJ, `${name}.o`);
    const obj = loadObjectFile(path);
    // map_in_map pins all_packets by name at the bpffs root (LIBBPF_PIN_BY_NAME): remove it after, if it is ours.
    const rootPins = obj.maps.filter((m) => m.pinning === 1).map((m) => join('/sys/fs/bpf', m.name)).filter((p) => !existsSync(p));
    try {
      const pins = loadWithBpftool(path, name, obj.maps.map((m) => m.name));
      if (pins === undefined) return;
      expect(compareRendering(obj, pins)).toBeGreaterThan(0);
    } finally {
      for (const p of rootPins) rmSync(p, { force: true });
    }
  });

  it.runIf(HAVE_CLANG)('an object with bitfields, strings, enums, unions, bools, 64-bit and signed values', () => {
    const dir = mkdtempSync(join(tmpdir(), 'maps-types-'));
    try {
      const src = join(dir, 'types.c');
      const obj = join(dir, 'types.o');
      writeFileSync(src, TYPES_C);
      const inc: string[] = [];
      if (!existsSync('/usr/include/asm/types.h')) {
        const multiarch = spawnSync('clang', ['-print-multiarch'], { encoding: 'utf8' }).stdout.trim();
        if (multiarch) inc.push(`-I/usr/include/${multiarch}`);
      }
      const cc = spawnSync('clang', ['-O2', '-g', '-target', 'bpf', ...inc, '-c', src, '-o', obj], { encoding: 'utf8' });
      expect(cc.status, cc.stderr).toBe(0);
      const loaded = loadObjectFile(obj);
      const pins = loadWithBpftool(obj, 'types', loaded.maps.map((m) => m.name));
      if (pins === undefined) return;
      expect(compareRendering(loaded, pins)).toBeGreaterThan(20);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
