/**
 * --maps-out / --maps-in documents: dumps of every map kind, load(dump) giving
 * the same maps back (fixture objects with BTF, and without), and every kind of
 * bad input refused with a MapJsonError naming the file and the JSON path.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Errno, UpdateFlag } from '../../xdp/maps/bpf-map.js';
import type { BpfMap } from '../../xdp/maps/bpf-map.js';
import { createMaps } from '../../xdp/maps/create-map.js';
import { formatJson, parseJson } from '../../xdp/maps/json-text.js';
import { MapJsonError } from '../../xdp/maps/map-errors.js';
import { dumpMaps, loadMaps, type MapsDocument } from '../../xdp/maps/map-json.js';
import { PerfEventArrayMap } from '../../xdp/maps/perf-event-array-map.js';
import { QueueStackMap } from '../../xdp/maps/queue-stack-map.js';
import { RingBufMap } from '../../xdp/maps/ringbuf-map.js';
import { loadObjectFile, type LoadedObject } from '../../xdp/object/load-object.js';
import { Memory } from '../../xdp/runtime/memory.js';
import { FIXTURE_OBJ } from '../support/paths.js';
import { bytes, mapDef, u32, u64 } from './helpers.js';

const FILE = 'state.json';

function fixtureMaps(name: string, cpus = 2): { obj: LoadedObject; maps: BpfMap[] } {
  const obj = loadObjectFile(join(FIXTURE_OBJ, `${name}.o`));
  return { obj, maps: createMaps(obj.maps, { memory: new Memory(), cpus, programs: obj.programs.map((p) => p.name) }) };
}

/** Fill every map with some deterministic entries (through the user-space API). */
function fill(maps: BpfMap[], seed: number): void {
  let x = seed;
  const rnd = (): number => (x = (x * 1103515245 + 12345) >>> 0) >>> 8;
  const some = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => rnd() & 0xff);
  for (const m of maps) {
    const { keySize, valueSize, maxEntries } = m.def;
    if (m instanceof QueueStackMap) {
      for (let i = 0; i < Math.min(3, maxEntries); i++) m.write(new Uint8Array(0), [some(valueSize)], UpdateFlag.ANY);
    } else if (m.def.type === 2 || m.def.type === 6) {
      for (let i = 0; i < Math.min(5, maxEntries); i++) m.write(u32(rnd() % maxEntries), [some(valueSize)], UpdateFlag.ANY);
    } else if ([1, 5, 9, 10].includes(m.def.type)) {
      for (let i = 0; i < Math.min(5, maxEntries); i++) m.write(some(keySize), [some(valueSize)], UpdateFlag.ANY);
    }
  }
}

const snapshot = (maps: BpfMap[]): string => formatJson(dumpMaps(maps), 0);

describe('dumpMaps', () => {
  it('shapes keys and values as bpftool does: BTF-formatted, or byte strings', () => {
    const { obj, maps } = fixtureMaps('flow_lru');
    const flows = maps[0]!;
    const key = bytes(10, 0, 0, 1, 10, 0, 0, 2, 0x1f, 0x90, 0, 80, 6, 0, 0, 0);
    expect(flows.write(key, [new Uint8Array([...u64(1), ...u64(2n ** 63n), ...u64(3), ...u64(1500)])], UpdateFlag.ANY)).toBe(0);
    const doc = dumpMaps(maps, obj.btf);
    expect(doc.maps[0]).toEqual({
      name: 'flows', type: 'lru_hash', key_size: 16, value_size: 32, max_entries: 4096,
      entries: [{
        key: { saddr: 0x0100000a, daddr: 0x0200000a, sport: 0x901f, dport: 0x5000, proto: 6, pad: [0, 0, 0] },
        value: { first_seen_ns: 1, last_seen_ns: 2n ** 63n, packets: 3, bytes: 1500 },
      }],
    });
    expect(formatJson(doc)).toContain('"last_seen_ns": 9223372036854775808');
    // without BTF: bpftool's byte strings
    const raw = dumpMaps(maps).maps[0]!.entries[0]!;
    expect(raw.key).toEqual(['0x0a', '0x00', '0x00', '0x01', '0x0a', '0x00', '0x00', '0x02', '0x1f', '0x90', '0x00', '0x50', '0x06', '0x00', '0x00', '0x00']);
  });

  it('shows per-CPU values, program and inner map names, queues, rings and perf samples', () => {
    const percpu = fixtureMaps('proto_count_percpu', 3);
    percpu.maps[0]!.write(u32(6), [bytes(1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0)], UpdateFlag.ANY);
    const e6 = dumpMaps(percpu.maps, percpu.obj.btf).maps[0]!.entries[6]!;
    expect(e6.key).toBe(6);
    expect(e6.values).toEqual([0, 1, 2].map((cpu) => ({ cpu, value: { packets: 1, bytes: 2 } })));

    const tail = fixtureMaps('tail_call');
    expect(dumpMaps(tail.maps, tail.obj.btf).maps[0]!.entries.map((e) => e.value)).toEqual(['xdp_handle_ipv4', 'xdp_handle_ipv6']);
    const mim = fixtureMaps('map_in_map');
    expect(dumpMaps(mim.maps, mim.obj.btf).maps.find((m) => m.name === 'per_family')!.entries)
      .toEqual([{ key: ['0x00', '0x00', '0x00', '0x00'], value: 'ipv4_packets' }, { key: ['0x01', '0x00', '0x00', '0x00'], value: 'ipv6_packets' }]);

    const mem = new Memory();
    const maps = createMaps([
      mapDef('STACK', 0, 2, 4, { index: 0, name: 'st' }),
      mapDef('RINGBUF', 0, 0, 4096, { index: 1, name: 'rb' }),
      mapDef('PERF_EVENT_ARRAY', 4, 4, 2, { index: 2, name: 'pe' }),
    ], { memory: mem, cpus: 2 });
    (maps[0] as QueueStackMap).push(bytes(1, 2), 0);
    (maps[0] as QueueStackMap).push(bytes(3, 4), 0);
    (maps[1] as RingBufMap).output(bytes(9), 0);
    (maps[2] as PerfEventArrayMap).output(1, 1, bytes(7, 7));
    const doc = dumpMaps(maps);
    expect(doc.maps.map((m) => m.entries)).toEqual([
      [{ value: ['0x01', '0x02'] }, { value: ['0x03', '0x04'] }],
      [{ value: ['0x09'] }],
      [{ cpu: 1, value: ['0x07', '0x07'] }],
    ]);
  });
});

describe('loadMaps(dumpMaps(x)) is x', () => {
  const fixtures = ['flow_lru', 'firewall_5tuple', 'proto_count_array', 'proto_count_percpu', 'ipv6_ext_walk', 'map_in_map', 'tail_call', 'rodata_config', 'redirect_devmap', 'legacy_maps'];
  it.each(fixtures)('%s, with BTF and without', (name) => {
    for (const useBtf of [true, false]) {
      const a = fixtureMaps(name);
      fill(a.maps, 7);
      const btf = useBtf ? a.obj.btf : undefined;
      const text = formatJson(dumpMaps(a.maps, btf));
      const b = fixtureMaps(name);
      loadMaps(b.maps, text, btf, FILE);
      expect(snapshot(b.maps)).toBe(snapshot(a.maps));
      expect(formatJson(dumpMaps(b.maps, btf))).toBe(text);
    }
  });

  it('a dump made without BTF loads into maps that have BTF', () => {
    const a = fixtureMaps('flow_lru');
    fill(a.maps, 3);
    const b = fixtureMaps('flow_lru');
    loadMaps(b.maps, dumpMaps(a.maps), b.obj.btf, FILE);
    expect(snapshot(b.maps)).toBe(snapshot(a.maps));
  });

  it('restores queue contents in order', () => {
    const make = (): BpfMap[] => createMaps([mapDef('QUEUE', 0, 4, 8, { index: 0, name: 'q' })], { memory: new Memory(), cpus: 1 });
    const a = make();
    for (const v of [5, 6, 7]) a[0]!.push(u32(v), 0);
    const b = make();
    loadMaps(b, formatJson(dumpMaps(a)), undefined, FILE);
    expect([b[0]!.pop(false), b[0]!.pop(false), b[0]!.pop(false)]).toEqual([u32(5), u32(6), u32(7)]);
  });

  it('a per-CPU entry may give one value for every CPU', () => {
    const { obj, maps } = fixtureMaps('proto_count_percpu', 2);
    loadMaps(maps, { maps: [{ name: 'proto_stats_percpu', entries: [{ key: 17, value: { packets: 5, bytes: 6 } }] }] }, obj.btf, FILE);
    expect(maps[0]!.read(u32(17))).toEqual([bytes(5, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0), bytes(5, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0)]);
  });
});

describe('loadMaps refuses bad input with the file and JSON path', () => {
  const cases: [string, string, unknown, RegExp][] = [
    ['not an object', 'flow_lru', [1, 2], /^state\.json, \$: expected an object \{ "maps": \[\.\.\.\] \}, got an array of 2$/],
    ['maps not an array', 'flow_lru', { maps: {} }, /^state\.json, maps: expected an array of maps, got an object$/],
    ['unknown top-level field', 'flow_lru', { maps: [], extra: 1 }, /^state\.json, \$\.extra: unknown field "extra"/],
    ['a map without a name', 'flow_lru', { maps: [{ entries: [] }] }, /^state\.json, maps\[0\]\.name: expected the map name \(a string\), got undefined/],
    ['an unknown map name', 'flow_lru', { maps: [{ name: 'flowz', entries: [] }] }, /^state\.json, maps\[0\]\.name: no map named "flowz" \(the maps are "flows"\)$/],
    ['a map twice', 'flow_lru', { maps: [{ name: 'flows' }, { name: 'flows' }] }, /maps\[1\]\.name: map "flows" appears twice/],
    ['a wrong type', 'flow_lru', { maps: [{ name: 'flows', type: 'hash' }] }, /^state\.json, maps\.flows\.type: expected "lru_hash" \(the map's type\), got the string "hash"$/],
    ['a wrong key size', 'flow_lru', { maps: [{ name: 'flows', key_size: 8 }] }, /maps\.flows\.key_size: expected 16 \(the map's key_size\), got number 8/],
    ['entries not an array', 'flow_lru', { maps: [{ name: 'flows', entries: 'none' }] }, /maps\.flows\.entries: expected an array of entries/],
    ['an entry without a key', 'flow_lru', { maps: [{ name: 'flows', entries: [{ value: 1 }] }] }, /maps\.flows\.entries\[0\]: missing "key"/],
    ['a misspelt entry field', 'flow_lru', { maps: [{ name: 'flows', entries: [{ key: 1, valu: 1 }] }] }, /maps\.flows\.entries\[0\]\.valu: unknown field "valu"/],
    ['a key of the wrong size (bytes)', 'flow_lru', { maps: [{ name: 'flows', entries: [{ key: ['0x01'], value: [] }] }] }, /maps\.flows\.entries\[0\]\.key: expected 'struct flow_key': an object/],
    ['a bad member value', 'flow_lru', {
      maps: [{ name: 'flows', entries: [{ key: { saddr: 1, daddr: 2, sport: 3, dport: 4, proto: 6, pad: [0, 0, 0] }, value: { first_seen_ns: 1, last_seen_ns: 2, packets: 3, bytes: -1 } }] }],
    }, /^state\.json, maps\.flows\.entries\[0\]\.value\.bytes: expected '__u64': an integer 0\.\.18446744073709551615, got number -1$/],
    ['a missing member', 'flow_lru', {
      maps: [{ name: 'flows', entries: [{ key: { saddr: 1, daddr: 2, sport: 3, dport: 4, proto: 6 }, value: {} }] }],
    }, /maps\.flows\.entries\[0\]\.key: 'struct flow_key': missing member "pad"/],
    ['an array index beyond max_entries', 'proto_count_array', { maps: [{ name: 'proto_stats', entries: [{ key: 256, value: { packets: 1, bytes: 1 } }] }] }, /maps\.proto_stats\.entries\[0\]: writing the entry failed: E2BIG/],
    ['per-CPU values missing a CPU', 'proto_count_percpu', { maps: [{ name: 'proto_stats_percpu', entries: [{ key: 1, values: [{ cpu: 0, value: { packets: 1, bytes: 1 } }] }] }] }, /entries\[0\]\.values: expected one value for each CPU 0\.\.1 \(missing cpu 1\)/],
    ['a CPU twice', 'proto_count_percpu', { maps: [{ name: 'proto_stats_percpu', entries: [{ key: 1, values: [{ cpu: 0, value: { packets: 1, bytes: 1 } }, { cpu: 0, value: { packets: 1, bytes: 1 } }] }] }] }, /values\[1\]\.cpu: cpu 0 appears twice/],
    ['value and values', 'proto_count_percpu', { maps: [{ name: 'proto_stats_percpu', entries: [{ key: 1, value: 1, values: [] }] }] }, /give "value" \(every CPU\) or "values"/],
    ['an unknown program', 'tail_call', { maps: [{ name: 'jmp_table', entries: [{ key: ['0x00', '0x00', '0x00', '0x00'], value: 'xdp_nope' }] }] }, /maps\.jmp_table\.entries\[0\]\.value: no program named "xdp_nope"/],
    ['a program as a number', 'tail_call', { maps: [{ name: 'jmp_table', entries: [{ key: ['0x00', '0x00', '0x00', '0x00'], value: 3 }] }] }, /expected a program name/],
    ['an unknown inner map', 'map_in_map', { maps: [{ name: 'per_family', entries: [{ key: ['0x00', '0x00', '0x00', '0x00'], value: 'nope' }] }] }, /maps\.per_family\.entries\[0\]\.value: no map named "nope"/],
    ['a mismatching inner map', 'map_in_map', { maps: [{ name: 'per_family', entries: [{ key: ['0x00', '0x00', '0x00', '0x00'], value: 'per_family' }] }] }, /does not match the inner map template of "per_family"/],
    ['a bad byte string', 'legacy_maps', { maps: [{ name: 'ethertype_count', entries: [{ key: ['0x00', '0x00', '0x00', 'zz'], value: [0, 0, 0, 0, 0, 0, 0, 0] }] }] }, /maps\.ethertype_count\.entries\[0\]\.key\[3\]: expected a byte: "0x00"\.\."0xff" or 0\.\.255, got the string "zz"/],
    ['too few value bytes', 'legacy_maps', { maps: [{ name: 'ethertype_count', entries: [{ key: [0, 0, 0, 0], value: [0] }] }] }, /entries\[0\]\.value: expected an array of 8 bytes like "0x1f", got an array of 1/],
  ];

  it.each(cases)('%s', (_name, fixture, doc, re) => {
    const { obj, maps } = fixtureMaps(fixture);
    let err: unknown;
    try {
      loadMaps(maps, doc, obj.btf, FILE);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MapJsonError);
    expect((err as Error).message).toMatch(re);
  });

  it('malformed JSON text: the line and column', () => {
    const { obj, maps } = fixtureMaps('flow_lru');
    expect(() => loadMaps(maps, '{ "maps": [ { "name": "flows", } ] }', obj.btf, FILE)).toThrow(/^state\.json, line 1, column 32: invalid JSON: expected a string key, found '}'$/);
    expect(() => loadMaps(maps, new TextEncoder().encode('{"maps": ['), obj.btf, FILE)).toThrow(MapJsonError);
  });

  it('ring buffers and perf event arrays take no entries', () => {
    const maps = createMaps([mapDef('RINGBUF', 0, 0, 4096, { index: 0, name: 'rb' })], { memory: new Memory(), cpus: 1 });
    expect(() => loadMaps(maps, { maps: [{ name: 'rb', entries: [{ value: [] }] }] }, undefined, FILE)).toThrow(/maps\.rb\.entries: a ringbuf map cannot be loaded with entries/);
  });

  it('a full hash and an overfull queue', () => {
    const maps = createMaps([mapDef('HASH', 1, 1, 1, { index: 0, name: 'h' }), mapDef('QUEUE', 0, 1, 1, { index: 1, name: 'q' })], { memory: new Memory(), cpus: 1 });
    const doc: MapsDocument = JSON.parse(JSON.stringify({ maps: [{ name: 'h', entries: [{ key: [1], value: [1] }, { key: [2], value: [2] }] }] }));
    expect(() => loadMaps(maps, doc, undefined, FILE)).toThrow(/maps\.h\.entries\[1\]: writing the entry failed: E2BIG \(the map is full/);
    expect(() => loadMaps(maps, { maps: [{ name: 'q', entries: [{ value: [1] }, { value: [2] }] }] }, undefined, FILE)).toThrow(/maps\.q\.entries\[1\]: pushing the value failed: E2BIG/);
  });

  it('global-data map names are quoted in paths', () => {
    const { obj, maps } = fixtureMaps('rodata_config');
    expect(() => loadMaps(maps, { maps: [{ name: '.rodata', entries: [{ key: [0, 0, 0, 0], value: [1] }] }] }, obj.btf, FILE))
      .toThrow(/^state\.json, maps\["\.rodata"\]\.entries\[0\]\.value: expected an array of 2 bytes/);
    // loading .rodata from user space works (before the run, as a skeleton sets it before load)
    loadMaps(maps, { maps: [{ name: '.rodata', entries: [{ key: [0, 0, 0, 0], value: ['0x50', '0x00'] }] }] }, obj.btf, FILE);
    expect(maps[0]!.read(u32(0))).toEqual([bytes(0x50, 0)]);
    expect(maps[0]!.update(u32(0), bytes(1, 1), 0, 0)).toBe(-Errno.EACCES);
  });

  it('parses what formatJson writes, 64-bit values exact', () => {
    const { obj, maps } = fixtureMaps('flow_lru');
    const key = { saddr: 1, daddr: 2, sport: 3, dport: 4, proto: 6, pad: [0, 0, 0] };
    const text = `{"maps":[{"name":"flows","entries":[{"key":${JSON.stringify(key)},"value":{"first_seen_ns":18446744073709551615,"last_seen_ns":0,"packets":0,"bytes":0}}]}]}`;
    loadMaps(maps, text, obj.btf, FILE);
    expect(parseJson(formatJson(dumpMaps(maps, obj.btf)))).toMatchObject({ maps: [{ entries: [{ value: { first_seen_ns: 18446744073709551615n } }] }] });
  });
});

describe('global data by variable name (issue 10.8)', () => {
  it('dumps .rodata/.data/.bss as bpftool shows a DATASEC, and loads them back by name', () => {
    const { obj, maps } = fixtureMaps('rodata_config', 1);
    const doc = dumpMaps(maps, obj.btf);
    expect(doc.maps.map((m) => [m.name, m.entries[0]!.value])).toEqual([
      ['.rodata', { '.rodata': [{ blocked_port: 23 }] }],
      ['.data', { '.data': [{ filter_enabled: 1 }] }],
      ['.bss', { '.bss': [{ seen_packets: 0 }, { dropped_packets: 0 }] }],
    ]);
    loadMaps(maps, { maps: [{ name: '.rodata', entries: [{ key: ['0x00', '0x00', '0x00', '0x00'], value: { '.rodata': [{ blocked_port: 22 }] } }] }] }, obj.btf, FILE);
    expect([...maps[0]!.read(u32(0))![0]!]).toEqual([22, 0]);
    // Raw bytes still load, and what was dumped loads back to the same bytes.
    loadMaps(maps, JSON.parse(formatJson(doc)), obj.btf, FILE);
    expect([...maps[0]!.read(u32(0))![0]!]).toEqual([23, 0]);
  });

  it('takes bpftool -j entries (raw bytes plus "formatted")', () => {
    const { obj, maps } = fixtureMaps('rodata_config', 1);
    const bpftool = { key: ['0x00', '0x00', '0x00', '0x00'], value: ['0x01', '0x00', '0x00', '0x00'], formatted: { value: { '.data': [{ filter_enabled: 1 }] } } };
    loadMaps(maps, { maps: [{ name: '.data', entries: [bpftool, { key: ['0x00', '0x00', '0x00', '0x00'], formatted: { value: { '.data': [{ filter_enabled: 7 }] } } }] }] }, obj.btf, FILE);
    expect([...maps[1]!.read(u32(0))![0]!]).toEqual([7, 0, 0, 0]);
  });

  it('a wrong variable is named by its JSON path', () => {
    const { obj, maps } = fixtureMaps('rodata_config', 1);
    const bad = { maps: [{ name: '.rodata', entries: [{ key: ['0x00', '0x00', '0x00', '0x00'], value: { '.rodata': [{ blocked_port: 'x' }] } }] }] };
    expect(() => loadMaps(maps, bad, obj.btf, FILE)).toThrow(/state\.json, maps\["\.rodata"\]\.entries\[0\]\.value\["\.rodata"\]\[0\]\.blocked_port: expected .*an integer 0\.\.65535, got the string "x"/);
    const wrongSection = { maps: [{ name: '.rodata', entries: [{ key: ['0x00', '0x00', '0x00', '0x00'], value: { '.data': [] } }] }] };
    expect(() => loadMaps(maps, wrongSection, obj.btf, FILE)).toThrow(/value: expected an object with the one key "\.rodata"/);
  });
});
