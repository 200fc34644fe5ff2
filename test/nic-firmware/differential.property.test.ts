/**
 * The card's map store against the host's maps (fast-check, fixed seeds; FIRMWARE_SEED=n tries
 * others): random sequences of the program's lookup / update / delete and user space's write on
 * ARRAY and HASH maps with small keys, values and max_entries give the same return codes, the
 * same lookup hits and value bytes, the same keys (in the same order) and the same values after
 * every step. The card's addresses are checked against its EMEM layout on the way. Also
 * bpf_perf_event_output's map part against the host's PERF_EVENT_ARRAY.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CardMaps, type CardMapDef } from '../../nic-sim/firmware/card-maps.js';
import type { BpfMap, MapEnv } from '../../xdp/maps/bpf-map.js';
import { createMap } from '../../xdp/maps/create-map.js';
import { MAP_TYPE, MapFlag } from '../../xdp/maps/map-types.js';
import { PerfEventArrayMap } from '../../xdp/maps/perf-event-array-map.js';
import type { MapDef } from '../../xdp/object/bpf-object.js';
import { Memory } from '../../xdp/runtime/memory.js';

const SEED = process.env.FIRMWARE_SEED !== undefined ? Number(process.env.FIRMWARE_SEED) : 0xf1e1d;
const hex = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : Buffer.from(b).toString('hex'));

interface Config {
  readonly type: 'ARRAY' | 'HASH';
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
}

type Op =
  | { readonly op: 'lookup'; readonly key: number }
  | { readonly op: 'update' | 'write'; readonly key: number; readonly value: number; readonly flags: number }
  | { readonly op: 'delete'; readonly key: number };

/** Update flags: ANY, NOEXIST, EXIST, both (invalid), and BPF_F_LOCK and unknown bits (invalid). */
const FLAGS = [0, 0, 1, 2, 0, 1, 2, 3, 4, 5, 6, 8, 0x10, 0x102, 0x80000000, 0xfffffffb];

const configArb: fc.Arbitrary<Config> = fc.record({
  type: fc.constantFrom('ARRAY' as const, 'HASH' as const),
  keySize: fc.integer({ min: 1, max: 7 }),
  valueSize: fc.integer({ min: 1, max: 13 }),
  maxEntries: fc.integer({ min: 1, max: 5 }),
  flags: fc.constantFrom(0, 0, 0, 0, MapFlag.RDONLY_PROG, MapFlag.RDONLY, MapFlag.NO_PREALLOC),
}).map((c) => (c.type === 'ARRAY' ? { ...c, keySize: 4, flags: c.flags === MapFlag.NO_PREALLOC ? 0 : c.flags } : c));

const opArb: fc.Arbitrary<Op> = (() => {
  // Keys 0..7 against at most 5 entries: full hashes, reuse and out-of-range indices all happen.
  const key = fc.integer({ min: 0, max: 7 });
  const value = fc.integer({ min: 0, max: 0xffff });
  const flags = fc.constantFrom(...FLAGS);
  return fc.oneof(
    { arbitrary: fc.record({ op: fc.constant('lookup' as const), key }), weight: 3 },
    { arbitrary: fc.record({ op: fc.constant('update' as const), key, value, flags }), weight: 5 },
    { arbitrary: fc.record({ op: fc.constant('write' as const), key, value, flags }), weight: 1 },
    { arbitrary: fc.record({ op: fc.constant('delete' as const), key }), weight: 3 },
  );
})();

/** The host's map as xdp/maps/create-map.ts makes it: one Memory, one MapEnv. */
function hostMap(c: Config): BpfMap {
  const env: MapEnv = { memory: new Memory(), cpus: 1, maps: [] };
  const def: MapDef = {
    index: 0, name: 'm', type: MAP_TYPE[c.type], keySize: c.keySize, valueSize: c.valueSize, maxEntries: c.maxEntries,
    flags: c.flags, pinning: 0, origin: 'btf', section: '.maps',
  };
  const m = createMap(def, env);
  (env.maps as BpfMap[]).push(m);
  return m;
}

/** Key n: for arrays the u32 index, for hashes n spread over keySize bytes (the rest fixed). */
function keyBytes(c: Config, n: number): Uint8Array {
  const b = new Uint8Array(c.keySize);
  if (c.type === 'ARRAY') new DataView(b.buffer).setUint32(0, n, true);
  else for (let i = 0; i < c.keySize; i++) b[i] = i === c.keySize - 1 ? n * 17 : 0xa0 + i;
  return b;
}

/** A value of valueSize bytes from a seed (every byte depends on it). */
function valueBytes(c: Config, v: number): Uint8Array {
  return Uint8Array.from({ length: c.valueSize }, (_, i) => (v * (i + 3) + (v >>> 8) + i) & 0xff);
}

function runDiff(c: Config, ops: readonly Op[]): void {
  const host = hostMap(c);
  const def: CardMapDef = { name: 'm', type: MAP_TYPE[c.type], keySize: c.keySize, valueSize: c.valueSize, maxEntries: c.maxEntries, flags: c.flags };
  // A map before and after it, so the layout's bases and bounds are exercised.
  const card = new CardMaps([
    { name: 'before', type: MAP_TYPE.ARRAY, keySize: 4, valueSize: 3, maxEntries: 3, flags: 0 },
    def,
    { name: 'after', type: MAP_TYPE.HASH, keySize: 2, valueSize: 8, maxEntries: 2, flags: 0 },
  ]);
  const M = 1;
  const base = card.base(M);
  const stride = card.stride(M);
  const guard = () => [card.emem.slice(0, base), card.emem.slice(base + stride * c.maxEntries)];
  const guardBefore = guard().map(hex);

  ops.forEach((o, step) => {
    const label = `step ${step} ${JSON.stringify(o)} on ${JSON.stringify(c)}`;
    const key = keyBytes(c, o.key);
    switch (o.op) {
      case 'lookup': {
        const at = card.lookup(M, key);
        const ref = host.lookup(key, 0);
        expect(at !== 0, label).toBe(ref !== undefined);
        if (ref !== undefined) {
          expect(at >= base && at < base + stride * c.maxEntries && (at - base) % stride === 0, label).toBe(true);
          expect(hex(card.emem.slice(at, at + c.valueSize)), label).toBe(hex(ref.region.bytes.slice(ref.offset, ref.offset + c.valueSize)));
        }
        break;
      }
      case 'update':
        expect(card.update(M, key, valueBytes(c, o.value), o.flags), label).toBe(host.update(key, valueBytes(c, o.value), o.flags, 0));
        break;
      case 'write':
        expect(card.write(M, key, valueBytes(c, o.value), o.flags), label).toBe(host.write(key, [valueBytes(c, o.value)], o.flags));
        break;
      case 'delete':
        expect(card.delete(M, key), label).toBe(host.delete(key, 0));
        break;
    }
    const keys = card.keys(M).map(hex);
    expect(keys, label).toEqual(host.keys().map(hex));
    const addrs = new Set<number>();
    for (const k of card.keys(M)) {
      expect(hex(card.value(M, k)), label).toBe(hex(host.read(k)?.[0]));
      addrs.add(card.lookup(M, k));
    }
    expect(addrs.size, `${label}: every present key has its own slot`).toBe(keys.length);
  });
  // The neighbours' bytes were never touched.
  expect(guard().map(hex)).toEqual(guardBefore);
}

describe('CardMaps against the host maps (fast-check, fixed seed)', () => {
  const cases = fc.tuple(configArb, fc.array(opArb, { maxLength: 80 }));
  it('ARRAY and HASH: return codes, lookups, keys and values after every step', () => {
    fc.assert(fc.property(cases, ([c, ops]) => runDiff(c, ops)), { seed: SEED, numRuns: 600 });
  });

  it('HASH only, one key size per run, long sequences (slot reuse after deletes)', () => {
    const hashCase = fc.tuple(configArb.map((c) => ({ ...c, type: 'HASH' as const, flags: 0 })), fc.array(opArb, { minLength: 60, maxLength: 200 }));
    fc.assert(fc.property(hashCase, ([c, ops]) => runDiff(c, ops)), { seed: SEED + 1, numRuns: 200 });
  });

  it('PERF_EVENT_ARRAY output: the same codes and samples as the host', () => {
    const perfCase = fc.record({
      cpus: fc.integer({ min: 1, max: 3 }),
      maxEntries: fc.integer({ min: 0, max: 4 }),
      calls: fc.array(fc.record({
        index: fc.constantFrom(0, 1, 2, 3, 4, 0xffffffff, 0x80000000),
        cpu: fc.integer({ min: 0, max: 2 }),
        len: fc.integer({ min: 0, max: 6 }),
      }), { maxLength: 20 }),
    });
    fc.assert(fc.property(perfCase, ({ cpus, maxEntries, calls }) => {
      const env: MapEnv = { memory: new Memory(), cpus, maps: [] };
      const host = createMap({
        index: 0, name: 'events', type: MAP_TYPE.PERF_EVENT_ARRAY, keySize: 4, valueSize: 4, maxEntries,
        flags: 0, pinning: 0, origin: 'btf', section: '.maps',
      }, env) as PerfEventArrayMap;
      const card = new CardMaps([{ name: 'events', type: MAP_TYPE.PERF_EVENT_ARRAY, keySize: 4, valueSize: 4, maxEntries, flags: 0 }], { cpus });
      for (const [n, call] of calls.entries()) {
        if (call.cpu >= cpus) continue;
        const data = Uint8Array.from({ length: call.len }, (_, i) => n + i);
        expect(card.output(0, call.index, call.cpu, data)).toBe(host.output(call.index, call.cpu, data));
      }
      expect(card.events(0).map((e) => [e.cpu, hex(e.data)])).toEqual(host.events().map((e) => [e.cpu, hex(e.data)]));
      for (const e of card.events(0)) expect(e.index).toBe(e.cpu);
    }), { seed: SEED + 2, numRuns: 300 });
  });
});
