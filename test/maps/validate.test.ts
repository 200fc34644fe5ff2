/**
 * Map definitions checked as BPF_MAP_CREATE checks them: the error names the
 * map and what was expected, and carries the kernel's errno; libbpf's
 * adjustments come first; unknown types are UnsupportedError.
 */
import { describe, expect, it } from 'vitest';
import { UnsupportedError } from '../../xdp/errors.js';
import { Errno } from '../../xdp/maps/bpf-map.js';
import { createMap } from '../../xdp/maps/create-map.js';
import { MapDefError } from '../../xdp/maps/map-errors.js';
import { MapFlag, MapType } from '../../xdp/maps/map-types.js';
import { adjustRingbufSize, libbpfMapDef, validateMapDef } from '../../xdp/maps/map-validate.js';
import type { MapDef } from '../../xdp/object/bpf-object.js';
import { mapDef, testEnv, type MapTypeName } from './helpers.js';

const F = MapFlag;

/** [type, key, value, max_entries, flags, errno or 0, message fragment] */
const CASES: [MapTypeName, number, number, number, number, number, RegExp?][] = [
  ['ARRAY', 4, 8, 1, 0, 0],
  ['ARRAY', 8, 8, 1, 0, Errno.EINVAL, /key_size 8: expected 4/],
  ['ARRAY', 4, 0, 1, 0, Errno.EINVAL, /value_size 0: expected at least 1/],
  ['ARRAY', 4, 8, 0, 0, Errno.EINVAL, /max_entries 0: expected at least 1/],
  ['ARRAY', 4, 8, 1, F.NO_PREALLOC, Errno.EINVAL, /NO_PREALLOC not allowed/],
  ['ARRAY', 4, 8, 1, F.MMAPABLE | F.RDONLY_PROG, 0],
  ['ARRAY', 4, 8, 1, F.RDONLY | F.WRONLY, Errno.EINVAL, /BPF_F_RDONLY and BPF_F_WRONLY exclude each other/],
  ['ARRAY', 4, 8, 1, F.RDONLY_PROG | F.WRONLY_PROG, Errno.EINVAL, /RDONLY_PROG and BPF_F_WRONLY_PROG/],
  ['ARRAY', 4, 8, 1, F.PRESERVE_ELEMS, Errno.EINVAL, /PRESERVE_ELEMS/],
  ['PERCPU_ARRAY', 4, 8, 1, F.MMAPABLE, Errno.EINVAL, /MMAPABLE and INNER_MAP are for BPF_MAP_TYPE_ARRAY only/],
  ['PERCPU_ARRAY', 4, 32769, 1, 0, Errno.E2BIG, /per-CPU value must fit 32768/],
  ['PERCPU_ARRAY', 4, 32768, 1, 0, 0],
  ['HASH', 4, 8, 1, F.NO_PREALLOC | F.ZERO_SEED, 0],
  ['HASH', 0, 8, 1, 0, Errno.EINVAL, /key_size 0/],
  ['HASH', 4, 0, 1, 0, Errno.EINVAL, /value_size 0/],
  ['HASH', 4, 8, 0, 0, Errno.EINVAL, /max_entries 0/],
  ['HASH', 4, 8, 1, F.NO_COMMON_LRU, Errno.EINVAL, /NO_COMMON_LRU: for LRU hashes only/],
  ['HASH', 4, 8, 1, F.MMAPABLE, Errno.EINVAL, /MMAPABLE not allowed/],
  ['HASH', 4, 4 << 20, 1, 0, Errno.E2BIG, /expected less than/],
  ['LRU_HASH', 4, 8, 1, F.NO_PREALLOC, Errno.ENOTSUPP, /always preallocated/],
  ['LRU_HASH', 4, 8, 1, F.NO_COMMON_LRU, 0],
  ['LRU_PERCPU_HASH', 4, 8, 1, F.NUMA_NODE, Errno.EINVAL, /NUMA_NODE/],
  ['PERCPU_HASH', 4, 40000, 1, 0, Errno.E2BIG, /per-CPU value/],
  ['LPM_TRIE', 8, 4, 1, F.NO_PREALLOC, 0],
  ['LPM_TRIE', 8, 4, 1, 0, Errno.EINVAL, /expected BPF_F_NO_PREALLOC/],
  ['LPM_TRIE', 4, 4, 1, F.NO_PREALLOC, Errno.EINVAL, /key_size 4: expected 4 \+ 1..256/],
  ['LPM_TRIE', 261, 4, 1, F.NO_PREALLOC, Errno.EINVAL, /key_size 261/],
  ['LPM_TRIE', 260, 4, 1, F.NO_PREALLOC, 0],
  ['LPM_TRIE', 8, 0, 1, F.NO_PREALLOC, Errno.EINVAL, /value_size 0/],
  ['QUEUE', 0, 4, 1, 0, 0],
  ['QUEUE', 4, 4, 1, 0, Errno.EINVAL, /key_size 4: expected 0/],
  ['STACK', 0, 0, 1, 0, Errno.EINVAL, /value_size 0/],
  ['STACK', 0, 4, 1, F.NO_PREALLOC, Errno.EINVAL, /NO_PREALLOC not allowed/],
  ['RINGBUF', 0, 0, 4096, 0, 0],
  ['RINGBUF', 0, 0, 12288, 0, Errno.EINVAL, /power of 2 multiple of the 4096-byte page size/],
  ['RINGBUF', 0, 0, 1000, 0, Errno.EINVAL, /power of 2 multiple/],
  ['RINGBUF', 4, 0, 4096, 0, Errno.EINVAL, /expected 0 and 0/],
  ['RINGBUF', 0, 0, 4096, F.NO_PREALLOC, Errno.EINVAL, /not allowed/],
  ['DEVMAP', 4, 8, 1, 0, 0],
  ['DEVMAP', 4, 12, 1, 0, Errno.EINVAL, /expected 4 \(ifindex\) or 8/],
  ['DEVMAP_HASH', 8, 4, 1, 0, Errno.EINVAL, /key_size 8: expected 4/],
  ['DEVMAP', 4, 4, 1, F.NO_PREALLOC, Errno.EINVAL, /not allowed/],
  ['CPUMAP', 4, 4, 4, 0, 0],
  ['CPUMAP', 4, 4, 9000, 0, Errno.E2BIG, /NR_CPUS/],
  ['XSKMAP', 4, 8, 1, 0, Errno.EINVAL, /AF_XDP socket fd/],
  ['PROG_ARRAY', 4, 8, 1, 0, Errno.EINVAL, /value_size 8: expected 4 \(the value is a file descriptor\)/],
  ['PROG_ARRAY', 4, 4, 1, F.RDONLY_PROG, Errno.EINVAL, /not supported on fd arrays/],
  ['PERF_EVENT_ARRAY', 4, 4, 2, F.PRESERVE_ELEMS, 0],
];

describe('definitions the kernel refuses', () => {
  it.each(CASES.map((c) => [`${c[0]} key ${c[1]} value ${c[2]} entries ${c[3]} flags ${c[4]}`, c] as const))('%s', (_n, c) => {
    const [type, key, value, max, flags, errno, message] = c;
    const def = mapDef(type, key, value, max, { flags, name: 'probe' });
    if (errno === 0) {
      expect(() => validateMapDef(def, 2)).not.toThrow();
      return;
    }
    let err: unknown;
    try {
      validateMapDef(def, 2);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MapDefError);
    const e = err as MapDefError;
    expect(e.errno).toBe(errno);
    expect(e.map).toBe('probe');
    expect(e.message).toMatch(new RegExp(`map 'probe' \\(${type}\\): `));
    if (message) expect(e.message).toMatch(message);
  });

  it('map-in-map definitions need an inner map template that is not itself map-in-map', () => {
    expect(() => createMap(mapDef('ARRAY_OF_MAPS', 4, 4, 2, { name: 'outer' }), testEnv()))
      .toThrow(/map 'outer' \(ARRAY_OF_MAPS\): no inner map template/);
    const nested = { name: 'i', type: MapType.ARRAY_OF_MAPS!, keySize: 4, valueSize: 4, maxEntries: 1, flags: 0, pinning: 0 };
    expect(() => createMap(mapDef('HASH_OF_MAPS', 4, 4, 2, { inner: nested }), testEnv())).toThrow(/only one level of nesting/);
  });

  it('names the section of the definition', () => {
    expect(() => createMap(mapDef('ARRAY', 8, 4, 1, { name: 'x', section: '.maps' }), testEnv())).toThrow(/^section \.maps: map 'x'/);
  });
});

describe('unsupported map types', () => {
  it('are an UnsupportedError naming the map and the type', () => {
    const def: MapDef = { ...mapDef('HASH', 4, 4, 1), name: 'sk', type: MapType.SOCKMAP! };
    expect(() => createMap(def, testEnv())).toThrow(UnsupportedError);
    expect(() => createMap(def, testEnv())).toThrow(/map 'sk' \(SOCKMAP\): map type 15 is not supported on the host/);
    expect(() => createMap({ ...def, type: 99 }, testEnv())).toThrow(/map 'sk' \(unknown\(99\)\)/);
  });
});

describe("libbpf's adjustments", () => {
  it('rounds a ring buffer up to a power-of-2 number of pages', () => {
    expect(adjustRingbufSize(4096)).toBe(4096);
    expect(adjustRingbufSize(1000)).toBe(4096);
    expect(adjustRingbufSize(12288)).toBe(16384);
    expect(adjustRingbufSize(0)).toBe(0);
    const m = createMap(mapDef('RINGBUF', 0, 0, 12288), testEnv());
    expect(m.def.maxEntries).toBe(16384);
  });

  it('sizes a perf event array without max_entries to the CPU count', () => {
    expect(libbpfMapDef(mapDef('PERF_EVENT_ARRAY', 4, 4, 0), 6).maxEntries).toBe(6);
    expect(libbpfMapDef(mapDef('PERF_EVENT_ARRAY', 4, 4, 3), 6).maxEntries).toBe(3);
  });

  it('leaves other definitions alone', () => {
    const d = mapDef('HASH', 4, 4, 1);
    expect(libbpfMapDef(d, 2)).toBe(d);
  });
});
