/** The card's map store by hand: EMEM layout, table ids, refusals, initial contents, hash slot reuse, perf events. */
import { describe, expect, it } from 'vitest';
import { CardMapError, CardMaps, EMEM_MAPS_BASE, type CardMapDef } from '../../nic-sim/firmware/card-maps.js';
import { Errno, UpdateFlag } from '../../xdp/maps/bpf-map.js';
import { MAP_TYPE, MapFlag } from '../../xdp/maps/map-types.js';

const u32 = (v: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
};
const bytes = (...v: number[]): Uint8Array => Uint8Array.from(v);
const def = (name: string, type: number, keySize: number, valueSize: number, maxEntries: number, extra: Partial<CardMapDef> = {}): CardMapDef =>
  ({ name, type, keySize, valueSize, maxEntries, flags: 0, ...extra });

function cardError(f: () => unknown): CardMapError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CardMapError);
    return e as CardMapError;
  }
  throw new Error('no error');
}

describe('EMEM layout and table ids', () => {
  const maps = new CardMaps([
    def('a', MAP_TYPE.ARRAY, 4, 5, 3),
    def('h', MAP_TYPE.HASH, 6, 16, 2),
    def('ev', MAP_TYPE.PERF_EVENT_ARRAY, 4, 4, 2),
    def('b', MAP_TYPE.ARRAY, 4, 1, 1),
  ]);

  it('puts the maps in table order from byte 64, slots of round_up(value_size, 8), bases 8-aligned', () => {
    expect([0, 1, 2, 3].map((i) => maps.base(i))).toEqual([64, 64 + 3 * 8, 64 + 24 + 2 * 16, 64 + 24 + 32]);
    expect([0, 1, 2, 3].map((i) => maps.stride(i))).toEqual([8, 16, 0, 8]);
    expect(maps.emem.length).toBe(64 + 24 + 32 + 8);
    expect(maps.valueAddress(0, 2)).toBe(64 + 16);
    expect(maps.valueAddress(1, 1)).toBe(64 + 24 + 16);
    expect(EMEM_MAPS_BASE).toBe(64);
  });

  it('gives table ids 1..n in table order', () => {
    expect([0, 1, 2, 3].map((i) => maps.tableId(i))).toEqual([1, 2, 3, 4]);
    expect([1, 2, 3, 4].map((id) => maps.mapIndexOfTable(id))).toEqual([0, 1, 2, 3]);
    expect(maps.mapIndexOfTable(0)).toBeUndefined();
    expect(maps.mapIndexOfTable(5)).toBeUndefined();
    expect(cardError(() => maps.tableId(4)).kind).toBe('no-such-map');
  });

  it('refuses slots outside a map and values of a perf event array', () => {
    expect(cardError(() => maps.valueAddress(0, 3)).message).toBe("card map 'a': value slot 3 outside 0..2");
    expect(cardError(() => maps.valueAddress(2, 0)).kind).toBe('wrong-type');
  });

  it('an empty table has only the reserved bytes', () => {
    expect(new CardMaps([]).emem.length).toBe(64);
  });
});

describe('refused definitions', () => {
  it('names the map and the type of an unsupported map', () => {
    const e = cardError(() => new CardMaps([def('ok', MAP_TYPE.ARRAY, 4, 4, 1), def('trie', MAP_TYPE.LPM_TRIE, 8, 4, 16)]));
    expect(e.kind).toBe('unsupported-type');
    expect(e.map).toBe('trie');
    expect(e.message).toBe("card map 'trie': map type LPM_TRIE (11) is not supported on the card (supported: ARRAY, HASH, PERF_EVENT_ARRAY)");
    for (const t of [MAP_TYPE.PERCPU_ARRAY, MAP_TYPE.LRU_HASH, MAP_TYPE.PERCPU_HASH, MAP_TYPE.RINGBUF, 99]) {
      expect(cardError(() => new CardMaps([def('x', t, 4, 4, 1)])).kind).toBe('unsupported-type');
    }
  });

  it('refuses sizes the kernel refuses', () => {
    const cases: [CardMapDef, string][] = [
      [def('a', MAP_TYPE.ARRAY, 8, 4, 1), "card map 'a': key_size 8: expected 4 (the key is a u32 index)"],
      [def('a', MAP_TYPE.ARRAY, 4, 0, 1), "card map 'a': value_size 0: expected at least 1"],
      [def('h', MAP_TYPE.HASH, 4, 4, 0), "card map 'h': max_entries 0: expected at least 1"],
      [def('h', MAP_TYPE.HASH, 0, 4, 1), "card map 'h': key_size 0: expected at least 1"],
      [def('h', MAP_TYPE.HASH, 4, -1, 1), "card map 'h': value_size -1: expected a u32"],
      [def('p', MAP_TYPE.PERF_EVENT_ARRAY, 4, 8, 1), "card map 'p': key_size 4, value_size 8: a perf event array takes 4 and 4"],
      [def('h', MAP_TYPE.HASH, 4, 4, 1, { initial: bytes(1) }), "card map 'h': initial contents are for arrays only"],
      [def('a', MAP_TYPE.ARRAY, 4, 2, 2, { initial: bytes(1, 2, 3, 4, 5) }), "card map 'a': initial contents of 5 bytes, more than 2 values of 2"],
    ];
    for (const [d, message] of cases) {
      const e = cardError(() => new CardMaps([d]));
      expect(e.kind).toBe('bad-definition');
      expect(e.message).toBe(message);
    }
  });

  it('refuses maps that do not fit the EMEM limit', () => {
    const e = cardError(() => new CardMaps([def('big', MAP_TYPE.ARRAY, 4, 64, 1000)], { maxEmemBytes: 4096 }));
    expect(e.kind).toBe('emem-full');
    expect(e.message).toBe("card map 'big': 1000 values of 64 bytes end at EMEM byte 64064, above the card's 4096");
  });

  it('refuses keys and values of the wrong length from callers', () => {
    const maps = new CardMaps([def('h', MAP_TYPE.HASH, 2, 4, 2)]);
    expect(cardError(() => maps.lookup(0, bytes(1))).message).toBe("card map 'h': key of 1 bytes, expected 2");
    expect(cardError(() => maps.update(0, bytes(1, 2), bytes(1), 0)).message).toBe("card map 'h': value of 1 bytes, expected 4");
    expect(cardError(() => maps.lookup(1, bytes(1, 2))).kind).toBe('no-such-map');
  });
});

describe('ARRAY', () => {
  it('holds every element from the start; initial bytes fill values 0, 1, … (global data: value 0)', () => {
    const maps = new CardMaps([
      def('.rodata', MAP_TYPE.ARRAY, 4, 6, 1, { flags: MapFlag.RDONLY_PROG, initial: bytes(1, 2, 3, 4, 5, 6) }),
      def('arr', MAP_TYPE.ARRAY, 4, 3, 3, { initial: bytes(9, 8, 7, 6, 5) }),
    ]);
    expect(maps.value(0, u32(0))).toEqual(bytes(1, 2, 3, 4, 5, 6));
    expect(maps.emem.slice(maps.base(0), maps.base(0) + 8)).toEqual(bytes(1, 2, 3, 4, 5, 6, 0, 0));
    expect([0, 1, 2].map((k) => maps.value(1, u32(k)))).toEqual([bytes(9, 8, 7), bytes(6, 5, 0), bytes(0, 0, 0)]);
    expect(maps.keys(1)).toEqual([u32(0), u32(1), u32(2)]);
    // The program may not write a BPF_F_RDONLY_PROG map; user space may.
    expect(maps.update(0, u32(0), bytes(0, 0, 0, 0, 0, 0), 0)).toBe(-Errno.EACCES);
    expect(maps.write(0, u32(0), bytes(7, 7, 7, 7, 7, 7))).toBe(0);
    expect(maps.value(0, u32(0))).toEqual(bytes(7, 7, 7, 7, 7, 7));
  });

  it('lookup: value i at slot i, past max_entries NULL', () => {
    const maps = new CardMaps([def('arr', MAP_TYPE.ARRAY, 4, 4, 3)]);
    expect(maps.lookup(0, u32(2))).toBe(maps.valueAddress(0, 2));
    expect(maps.lookup(0, u32(3))).toBe(0);
    expect(maps.lookup(0, u32(0xffffffff))).toBe(0);
    expect(maps.value(0, u32(3))).toBeUndefined();
  });

  it('update and delete codes in arraymap.c order', () => {
    const maps = new CardMaps([def('arr', MAP_TYPE.ARRAY, 4, 4, 3)]);
    const v = u32(0x11223344);
    expect(maps.update(0, u32(1), v, UpdateFlag.ANY)).toBe(0);
    expect(maps.update(0, u32(1), v, UpdateFlag.EXIST)).toBe(0);
    expect(maps.update(0, u32(1), v, UpdateFlag.NOEXIST)).toBe(-Errno.EEXIST);
    expect(maps.update(0, u32(3), v, UpdateFlag.NOEXIST)).toBe(-Errno.E2BIG);
    expect(maps.update(0, u32(1), v, 3)).toBe(-Errno.EINVAL);
    expect(maps.update(0, u32(1), v, UpdateFlag.LOCK)).toBe(-Errno.EINVAL);
    expect(maps.update(0, u32(3), v, UpdateFlag.LOCK)).toBe(-Errno.E2BIG);
    expect(maps.update(0, u32(1), v, UpdateFlag.LOCK | UpdateFlag.NOEXIST)).toBe(-Errno.EEXIST);
    // The kernel's u64 compare: a set bit 31 is an unknown flag (the host's JS bit operations let it through).
    expect(maps.update(0, u32(1), v, 0x80000000)).toBe(-Errno.EINVAL);
    expect(maps.delete(0, u32(1))).toBe(-Errno.EINVAL);
    expect(maps.value(0, u32(1))).toEqual(v);
    expect(maps.emem[maps.lookup(0, u32(1))]).toBe(0x44);
  });
});

describe('HASH', () => {
  it('hands out never-used slots first, then freed ones first in, first out; an update of a present key writes in place', () => {
    const maps = new CardMaps([def('h', MAP_TYPE.HASH, 2, 4, 3)]);
    const slotOf = (k: number): number => (maps.lookup(0, bytes(k, 0)) - maps.base(0)) / 8;
    for (const k of [1, 2, 3]) expect(maps.update(0, bytes(k, 0), u32(k * 100), 0)).toBe(0);
    expect([1, 2, 3].map(slotOf)).toEqual([0, 1, 2]);
    expect(maps.update(0, bytes(4, 0), u32(1), 0)).toBe(-Errno.E2BIG);
    expect(maps.delete(0, bytes(3, 0))).toBe(0);
    expect(maps.delete(0, bytes(1, 0))).toBe(0);
    expect(maps.delete(0, bytes(1, 0))).toBe(-Errno.ENOENT);
    // Freed: slot 2 (key 3), then slot 0 (key 1).
    expect(maps.update(0, bytes(5, 0), u32(500), UpdateFlag.NOEXIST)).toBe(0);
    expect(maps.update(0, bytes(6, 0), u32(600), 0)).toBe(0);
    expect([5, 6].map(slotOf)).toEqual([2, 0]);
    const at = maps.lookup(0, bytes(2, 0));
    expect(maps.update(0, bytes(2, 0), u32(222), UpdateFlag.EXIST)).toBe(0);
    expect(maps.lookup(0, bytes(2, 0))).toBe(at);
    expect(maps.emem.slice(at, at + 4)).toEqual(u32(222));
    expect(maps.keys(0)).toEqual([bytes(2, 0), bytes(5, 0), bytes(6, 0)]);
    expect(maps.update(0, bytes(2, 0), u32(1), UpdateFlag.NOEXIST)).toBe(-Errno.EEXIST);
    expect(maps.update(0, bytes(7, 0), u32(1), UpdateFlag.EXIST)).toBe(-Errno.ENOENT);
    expect(maps.update(0, bytes(7, 0), u32(1), UpdateFlag.LOCK)).toBe(-Errno.EINVAL);
  });

  it('a new key zeroes its slot padding; value() is a copy', () => {
    const maps = new CardMaps([def('h', MAP_TYPE.HASH, 1, 3, 1)]);
    const base = maps.base(0);
    maps.emem.fill(0xee, base, base + 8);
    expect(maps.update(0, bytes(1), bytes(1, 2, 3), 0)).toBe(0);
    expect(maps.emem.slice(base, base + 8)).toEqual(bytes(1, 2, 3, 0, 0, 0, 0, 0));
    const v = maps.value(0, bytes(1))!;
    v[0] = 9;
    expect(maps.value(0, bytes(1))).toEqual(bytes(1, 2, 3));
  });

  it('BPF_F_RDONLY_PROG refuses the program, BPF_F_RDONLY user space', () => {
    const maps = new CardMaps([
      def('ro_prog', MAP_TYPE.HASH, 1, 1, 2, { flags: MapFlag.RDONLY_PROG }),
      def('ro_user', MAP_TYPE.HASH, 1, 1, 2, { flags: MapFlag.RDONLY }),
    ]);
    expect(maps.update(0, bytes(1), bytes(1), 0)).toBe(-Errno.EACCES);
    expect(maps.write(0, bytes(1), bytes(1))).toBe(0);
    expect(maps.delete(0, bytes(1))).toBe(-Errno.EACCES);
    expect(maps.write(1, bytes(1), bytes(1))).toBe(-Errno.EPERM);
    expect(maps.update(1, bytes(1), bytes(1), 0)).toBe(0);
    expect(maps.delete(1, bytes(1))).toBe(0);
  });
});

describe('PERF_EVENT_ARRAY', () => {
  it('collects samples per CPU slot with the host codes; max_entries 0 is the CPU count', () => {
    const maps = new CardMaps([def('events', MAP_TYPE.PERF_EVENT_ARRAY, 4, 4, 0), def('h', MAP_TYPE.HASH, 4, 4, 1)], { cpus: 2 });
    expect(maps.defs[0]!.maxEntries).toBe(2);
    expect(maps.output(0, 0xffffffff, 1, bytes(1, 2))).toBe(0);
    expect(maps.output(0, 0, 0, bytes(3))).toBe(0);
    expect(maps.output(0, 1, 0, bytes(4))).toBe(-Errno.EOPNOTSUPP);
    expect(maps.output(0, 2, 0, bytes(4))).toBe(-Errno.E2BIG);
    expect(maps.events(0)).toEqual([{ index: 1, cpu: 1, data: bytes(1, 2) }, { index: 0, cpu: 0, data: bytes(3) }]);
    expect(maps.consume(0)).toHaveLength(2);
    expect(maps.events(0)).toEqual([]);
    expect(cardError(() => maps.output(0, 0, 2, bytes())).message).toBe("card map 'events': cpu 2 outside 0..1");
    expect(cardError(() => maps.events(1)).message).toBe("card map 'h': a HASH map has no perf events");
    // No values: lookups miss, updates are -EBADF (its slots would hold perf event fds), deletes -EINVAL.
    expect(maps.lookup(0, u32(0))).toBe(0);
    expect(maps.update(0, u32(0), u32(0), 0)).toBe(-Errno.EBADF);
    expect(maps.write(0, u32(0), u32(0))).toBe(-Errno.EBADF);
    expect(maps.delete(0, u32(0))).toBe(-Errno.EINVAL);
    expect(maps.keys(0)).toEqual([]);
  });

  it('slots at or above the CPU count have no event', () => {
    const maps = new CardMaps([def('events', MAP_TYPE.PERF_EVENT_ARRAY, 4, 4, 4)], { cpus: 2 });
    expect(maps.output(0, 3, 1, bytes())).toBe(-Errno.ENOENT);
  });
});
