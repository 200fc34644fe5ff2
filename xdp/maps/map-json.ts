/**
 * Maps as a JSON document, for `--maps-out` (dumpMaps) and `--maps-in`
 * (loadMaps):
 *
 *   { "maps": [ { "name": "flows", "type": "lru_hash", "key_size": 16, "value_size": 32,
 *                 "max_entries": 4096,
 *                 "entries": [ { "key": ..., "value": ... },                        // most maps
 *                              { "key": ..., "values": [ { "cpu": 0, "value": ... } ] },  // per-CPU maps
 *                              { "value": ... } ] } ] }                              // queue, stack, ring buffer
 *
 * Keys and values are shaped as `bpftool map dump -j` prints them: through BTF
 * (what bpftool shows under "formatted") when the map has a key/value type and
 * libbpf would give the kernel that type, else as arrays of "0x.." byte strings.
 * A PROG_ARRAY value is the program's name, a map-in-map value the inner map's
 * name. Queues and stacks list their values oldest first, ring buffers their
 * unread records, perf event arrays their samples (`{ "cpu", "value" }`); the
 * last two are output only.
 *
 * Loading writes each entry over what the map holds (BPF_ANY); maps the document
 * does not name are left alone. Every error names the file and the JSON path
 * (`maps.flows.entries[3].value.bytes`) and says what was expected there.
 */
import { btfToJson, BtfValueError, jsonPathMember, jsonToBtf } from '../btf/btf-value.js';
import type { Btf } from '../btf/btf-types.js';
import { resolveType, sizeOf } from '../btf/btf-resolve.js';
import type { MapDef } from '../object/bpf-object.js';
import { ArrayMap } from './array-map.js';
import { Errno, UpdateFlag, errnoName, type BpfMap } from './bpf-map.js';
import { HashMap } from './hash-map.js';
import { parseJson } from './json-text.js';
import { MapJsonError } from './map-errors.js';
import { MapInMap } from './map-in-map.js';
import { MAP_TYPE, MAP_TYPE_NAMES } from './map-types.js';
import { PerfEventArrayMap } from './perf-event-array-map.js';
import { ProgArrayMap } from './prog-array-map.js';
import { QueueStackMap } from './queue-stack-map.js';
import { RingBufMap } from './ringbuf-map.js';

export type JsonBytes = string[];

export interface MapEntryJson {
  key?: unknown;
  value?: unknown;
  values?: { cpu: number; value: unknown }[];
  cpu?: number;
}

export interface MapJson {
  name: string;
  type: string;
  key_size: number;
  value_size: number;
  max_entries: number;
  entries: MapEntryJson[];
}

export interface MapsDocument {
  maps: MapJson[];
}

/**
 * Map types whose BTF key/value types libbpf does not pass to the kernel
 * (bpf_object__create_map clears btf_key_type_id/btf_value_type_id for them), so
 * bpftool shows their keys and values as bytes.
 */
export const LIBBPF_NO_BTF_TYPES: ReadonlySet<number> = new Set([
  MAP_TYPE.PERF_EVENT_ARRAY, 7 /* CGROUP_ARRAY */, 8 /* STACK_TRACE */, MAP_TYPE.ARRAY_OF_MAPS, MAP_TYPE.HASH_OF_MAPS,
  MAP_TYPE.DEVMAP, MAP_TYPE.DEVMAP_HASH, MAP_TYPE.CPUMAP, MAP_TYPE.XSKMAP, 15 /* SOCKMAP */, 18 /* SOCKHASH */,
  MAP_TYPE.QUEUE, MAP_TYPE.STACK, 33 /* ARENA */,
]);

const PERCPU_TYPES: ReadonlySet<number> = new Set([MAP_TYPE.PERCPU_ARRAY, MAP_TYPE.PERCPU_HASH, MAP_TYPE.LRU_PERCPU_HASH]);

/** The type name bpftool prints (`lru_hash`, `percpu_array`...). */
export function bpftoolTypeName(type: number): string {
  return (MAP_TYPE_NAMES[type] ?? `unknown(${type})`).toLowerCase();
}

/** bpftool's print_hex_data_json: every byte as "0x%02hhx". */
export function hexBytes(bytes: Uint8Array): JsonBytes {
  return Array.from(bytes, (b) => `0x${b.toString(16).padStart(2, '0')}`);
}

/** The BTF type id to format a key or value with, when BTF applies to it. */
function btfTypeFor(def: MapDef, part: 'key' | 'value', btf: Btf | undefined, file: string | undefined): number | undefined {
  const id = part === 'key' ? def.keyTypeId : def.valueTypeId;
  if (btf === undefined || id === undefined || id === 0 || LIBBPF_NO_BTF_TYPES.has(def.type)) return undefined;
  const size = part === 'key' ? def.keySize : def.valueSize;
  const btfSize = sizeOf(btf, id);
  if (btfSize !== size) {
    throw new MapJsonError(`map '${def.name}': its BTF ${part} type [${id}] is ${btfSize} bytes but ${part}_size is ${size}`, file, jsonPathMember('maps', def.name));
  }
  return id;
}

function show(btf: Btf | undefined, id: number | undefined, bytes: Uint8Array, path: string): unknown {
  if (btf === undefined || id === undefined) return hexBytes(bytes);
  try {
    return btfToJson(btf, id, bytes);
  } catch (e) {
    if (e instanceof BtfValueError) throw new MapJsonError(e.detail, undefined, path);
    throw e;
  }
}

/**
 * A global-data value as bpftool shows a DATASEC: `{ ".rodata": [ { "var": value }, ... ] }`, each
 * variable read at its symbol's offset.
 */
function dataSection(btf: Btf, def: MapDef, bytes: Uint8Array, path: string): unknown {
  try {
    return { [def.section]: def.dataVars!.map((v) => btfToJson(btf, v.varTypeId, bytes, v.offset)) };
  } catch (e) {
    if (e instanceof BtfValueError) throw new MapJsonError(e.detail, undefined, path);
    throw e;
  }
}

/** One map as a document entry. */
export function dumpMap(map: BpfMap, btf?: Btf): MapJson {
  const def = map.def;
  const mp = jsonPathMember('maps', def.name);
  const keyType = btfTypeFor(def, 'key', btf, undefined);
  const valueType = btfTypeFor(def, 'value', btf, undefined);
  const entries: MapEntryJson[] = [];
  const keyJson = (key: Uint8Array, j: number): unknown => show(btf, keyType, key, `${mp}.entries[${j}].key`);
  const valueJson = (value: Uint8Array, path: string): unknown =>
    btf && def.dataVars ? dataSection(btf, def, value, path) : show(btf, valueType, value, path);

  if (map instanceof QueueStackMap) {
    for (const v of map.contents()) entries.push({ value: valueJson(v, `${mp}.entries[${entries.length}].value`) });
  } else if (map instanceof RingBufMap) {
    for (const r of map.records()) entries.push({ value: hexBytes(r) });
  } else if (map instanceof PerfEventArrayMap) {
    for (const e of map.events()) entries.push({ cpu: e.cpu, value: hexBytes(e.data) });
  } else if (map instanceof ProgArrayMap) {
    map.keys().forEach((key, j) => entries.push({ key: keyJson(key, j), value: map.program(map.slotIndex(key)) ?? null }));
  } else if (map instanceof MapInMap) {
    map.keys().forEach((key, j) => entries.push({ key: keyJson(key, j), value: map.inner(key)?.def.name ?? null }));
  } else {
    const percpu = PERCPU_TYPES.has(def.type);
    map.keys().forEach((key, j) => {
      const vals = map.read(key);
      if (vals === undefined) return;
      const base = `${mp}.entries[${j}]`;
      if (percpu) {
        entries.push({ key: keyJson(key, j), values: vals.map((v, cpu) => ({ cpu, value: valueJson(v, `${base}.values[${cpu}].value`) })) });
      } else {
        entries.push({ key: keyJson(key, j), value: valueJson(vals[0]!, `${base}.value`) });
      }
    });
  }
  return {
    name: def.name, type: bpftoolTypeName(def.type),
    key_size: def.keySize, value_size: def.valueSize, max_entries: def.maxEntries, entries,
  };
}

/** Every map's entries (write it out with formatJson, which keeps 64-bit integers exact). */
export function dumpMaps(maps: readonly BpfMap[], btf?: Btf): MapsDocument {
  return { maps: maps.map((m) => dumpMap(m, btf)) };
}

// ------------------------------------------------------------------ loading

type Obj = Record<string, unknown>;

class Loader {
  constructor(
    readonly maps: readonly BpfMap[],
    readonly btf: Btf | undefined,
    readonly file: string,
  ) {}

  fail(path: string, message: string): never {
    throw new MapJsonError(message, this.file, path);
  }

  describe(v: unknown): string {
    if (v === null) return 'null';
    if (Array.isArray(v)) return `an array of ${v.length}`;
    if (typeof v === 'object') return 'an object';
    if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
    return `${typeof v} ${String(v)}`;
  }

  expect(path: string, what: string, got: unknown): never {
    return this.fail(path, `expected ${what}, got ${this.describe(got)}`);
  }

  object(v: unknown, path: string, allowed: readonly string[], what: string): Obj {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.expect(path, what, v);
    const o = v as Obj;
    const extra = Object.keys(o).filter((k) => !allowed.includes(k));
    if (extra.length > 0) {
      this.fail(jsonPathMember(path, extra[0]!), `unknown field ${JSON.stringify(extra[0])} (expected ${allowed.map((a) => JSON.stringify(a)).join(', ')})`);
    }
    return o;
  }

  /** Raw bytes: an array of `size` byte strings ("0x1f") or numbers 0..255. */
  rawBytes(v: unknown, size: number, path: string): Uint8Array {
    const what = `an array of ${size} bytes like "0x1f"`;
    if (!Array.isArray(v) || v.length !== size) this.expect(path, what, v);
    return Uint8Array.from(v, (b, k) => {
      if (typeof b === 'string' && /^0x[0-9a-fA-F]{1,2}$/.test(b)) return parseInt(b, 16);
      if (typeof b === 'number' && Number.isInteger(b) && b >= 0 && b <= 255) return b;
      return this.expect(`${path}[${k}]`, 'a byte: "0x00".."0xff" or 0..255', b);
    });
  }

  /**
   * A global-data value given by variable (`{ ".rodata": [ { "var": value }, ... ] }`): each variable
   * written at its offset over `base` (what the map holds), so bytes no variable covers stay as they were.
   */
  dataValue(def: MapDef, v: Obj, path: string, base: Uint8Array): Uint8Array {
    const btf = this.btf!;
    const vars = def.dataVars!;
    const keys = Object.keys(v);
    if (keys.length !== 1 || keys[0] !== def.section) this.expect(path, `an object with the one key "${def.section}" (or the value's ${def.valueSize} bytes)`, v);
    const list = v[def.section];
    const lp = jsonPathMember(path, def.section);
    if (!Array.isArray(list) || list.length !== vars.length) this.expect(lp, `an array of the section's ${vars.length} variables, in order`, list);
    const out = base.slice();
    vars.forEach((dv, k) => {
      try {
        out.set(jsonToBtf(btf, dv.varTypeId, list[k], `${lp}[${k}]`, this.file), dv.offset);
      } catch (e) {
        if (e instanceof BtfValueError) throw new MapJsonError(e.detail, this.file, e.path || `${lp}[${k}]`);
        throw e;
      }
    });
    return out;
  }

  /** Bytes of a key or value: through BTF when the map has the type, else raw bytes. */
  bytes(def: MapDef, part: 'key' | 'value', v: unknown, path: string, base?: Uint8Array): Uint8Array {
    if (part === 'value' && def.dataVars && this.btf && v !== null && typeof v === 'object' && !Array.isArray(v)) {
      return this.dataValue(def, v as Obj, path, base ?? new Uint8Array(def.valueSize));
    }
    const size = part === 'key' ? def.keySize : def.valueSize;
    const id = btfTypeFor(def, part, this.btf, this.file);
    if (this.btf === undefined || id === undefined) return this.rawBytes(v, size, path);
    // A dump made without BTF (byte strings) loads too, unless the type itself is an array.
    if (Array.isArray(v) && v.length === size && v.every((b) => typeof b === 'string' && /^0x[0-9a-fA-F]{1,2}$/.test(b)) && resolveType(this.btf, id).kind !== 'ARRAY') {
      return this.rawBytes(v, size, path);
    }
    try {
      return jsonToBtf(this.btf, id, v, path, this.file);
    } catch (e) {
      if (e instanceof BtfValueError) throw new MapJsonError(e.detail, this.file, e.path || path);
      throw e;
    }
  }

  checkRc(rc: number, path: string, what: string): void {
    if (rc === 0) return;
    const why: Record<number, string> = {
      [Errno.E2BIG]: 'the map is full or the index is beyond max_entries',
      [Errno.ENOSPC]: 'the map is full',
      [Errno.EINVAL]: 'the map refuses this value',
      [Errno.EBADF]: 'no such program or map',
      [Errno.EPERM]: 'the map is read-only for user space (BPF_F_RDONLY)',
      [Errno.ENODEV]: 'no such CPU',
      [Errno.EOVERFLOW]: 'the queue size is above 16384',
      [Errno.ENOTSUPP]: 'the map type takes no entries',
    };
    this.fail(path, `${what} failed: ${errnoName(rc)}${why[-rc] !== undefined ? ` (${why[-rc]})` : ''}`);
  }

  load(doc: unknown): void {
    const top = this.object(doc, '$', ['maps'], 'an object { "maps": [...] }');
    const list = top.maps;
    if (!Array.isArray(list)) this.expect('maps', 'an array of maps', list);
    const seen = new Set<string>();
    list.forEach((m, i) => {
      const o = this.object(m, `maps[${i}]`, ['name', 'type', 'key_size', 'value_size', 'max_entries', 'entries'], 'a map object { "name", "entries", ... }');
      if (typeof o.name !== 'string') this.expect(`maps[${i}].name`, 'the map name (a string)', o.name);
      const name = o.name;
      const map = this.maps.find((x) => x.def.name === name);
      if (map === undefined) {
        this.fail(`maps[${i}].name`, `no map named ${JSON.stringify(name)} (the maps are ${this.maps.map((x) => JSON.stringify(x.def.name)).join(', ') || 'none'})`);
      }
      if (seen.has(name)) this.fail(`maps[${i}].name`, `map ${JSON.stringify(name)} appears twice`);
      seen.add(name);
      this.loadMap(map, o, jsonPathMember('maps', name));
    });
  }

  loadMap(map: BpfMap, o: Obj, mp: string): void {
    const def = map.def;
    const expectField = (field: string, want: string | number): void => {
      if (o[field] !== undefined && o[field] !== want) {
        this.expect(jsonPathMember(mp, field), `${JSON.stringify(want)} (the map's ${field})`, o[field]);
      }
    };
    expectField('type', bpftoolTypeName(def.type));
    expectField('key_size', def.keySize);
    expectField('value_size', def.valueSize);
    expectField('max_entries', def.maxEntries);
    const entries = o.entries ?? [];
    if (!Array.isArray(entries)) this.expect(`${mp}.entries`, 'an array of entries', entries);
    if ((map instanceof RingBufMap || map instanceof PerfEventArrayMap) && entries.length > 0) {
      this.fail(`${mp}.entries`, `a ${bpftoolTypeName(def.type)} map cannot be loaded with entries (they are output only)`);
    }
    entries.forEach((e, j) => this.loadEntry(map, e, `${mp}.entries[${j}]`));
  }

  loadEntry(map: BpfMap, e: unknown, ep: string): void {
    const def = map.def;
    if (map instanceof QueueStackMap) {
      const o = this.object(e, ep, ['value'], 'an entry { "value": ... }');
      if (!('value' in o)) this.fail(ep, 'missing "value"');
      this.checkRc(map.write(new Uint8Array(0), [this.bytes(def, 'value', o.value, `${ep}.value`)], UpdateFlag.ANY), ep, 'pushing the value');
      return;
    }
    const percpu = PERCPU_TYPES.has(def.type);
    // bpftool's -j entries carry "formatted" too: the same key and value through BTF, used where the
    // raw ones are absent.
    const raw = this.object(e, ep, percpu ? ['key', 'value', 'values', 'formatted'] : ['key', 'value', 'formatted'], percpu ? 'an entry { "key", "values": [ { "cpu", "value" } ] }' : 'an entry { "key", "value" }');
    const o: Obj = { ...raw };
    delete o.formatted;
    if ('formatted' in raw) {
      const f = this.object(raw.formatted, `${ep}.formatted`, ['key', 'value', 'values'], '{ "key", "value" } through BTF');
      for (const k of ['key', 'value', 'values'] as const) if (!(k in o) && k in f) o[k] = f[k];
    }
    if (!('key' in o)) this.fail(ep, 'missing "key"');
    const key = this.bytes(def, 'key', o.key, `${ep}.key`);
    if ('value' in o && 'values' in o) this.fail(ep, 'give "value" (every CPU) or "values" (one per CPU), not both');
    if (!('value' in o) && !('values' in o)) this.fail(ep, percpu ? 'missing "values"' : 'missing "value"');

    if (map instanceof ProgArrayMap) {
      if (typeof o.value !== 'string' && o.value !== null) this.expect(`${ep}.value`, 'a program name (or null for an empty slot)', o.value);
      const rc = map.setProgram(map.slotIndex(key), o.value === null ? undefined : o.value);
      if (rc === -Errno.EBADF) this.fail(`${ep}.value`, `no program named ${JSON.stringify(o.value)}`);
      if (rc === -Errno.ENOENT) return;
      this.checkRc(rc, ep, 'setting the slot');
      return;
    }
    if (map instanceof MapInMap) {
      if (typeof o.value !== 'string') this.expect(`${ep}.value`, 'the name of a map', o.value);
      const inner = this.maps.find((x) => x.def.name === o.value);
      if (inner === undefined) this.fail(`${ep}.value`, `no map named ${JSON.stringify(o.value)}`);
      const rc = map.setInner(key, inner);
      if (rc === -Errno.EINVAL) this.fail(`${ep}.value`, `map ${JSON.stringify(o.value)} does not match the inner map template of ${JSON.stringify(def.name)}`);
      this.checkRc(rc, ep, 'setting the slot');
      return;
    }

    let values: Uint8Array[];
    if ('values' in o) {
      const list = o.values;
      if (!Array.isArray(list)) this.expect(`${ep}.values`, 'an array of { "cpu", "value" }', list);
      const n = map instanceof ArrayMap || map instanceof HashMap ? map.copies : list.length;
      const byCpu: (Uint8Array | undefined)[] = new Array(n);
      list.forEach((item, k) => {
        const ip = `${ep}.values[${k}]`;
        const io = this.object(item, ip, ['cpu', 'value'], '{ "cpu": n, "value": ... }');
        if (typeof io.cpu !== 'number' || !Number.isInteger(io.cpu) || io.cpu < 0) this.expect(`${ip}.cpu`, 'a CPU number', io.cpu);
        if (byCpu[io.cpu] !== undefined) this.fail(`${ip}.cpu`, `cpu ${io.cpu} appears twice`);
        if (!('value' in io)) this.fail(ip, 'missing "value"');
        byCpu[io.cpu] = this.bytes(def, 'value', io.value, `${ip}.value`);
      });
      const missing = [...byCpu.keys()].filter((c) => byCpu[c] === undefined);
      if (byCpu.length !== list.length || missing.length > 0) {
        this.fail(`${ep}.values`, `expected one value for each CPU 0..${n - 1}${missing.length > 0 ? ` (missing cpu ${missing.join(', ')})` : ''}`);
      }
      values = byCpu as Uint8Array[];
    } else {
      values = [this.bytes(def, 'value', o.value, `${ep}.value`, map.read(key)?.[0])];
    }
    const rc = map.write(key, values, UpdateFlag.ANY);
    if (rc === -Errno.EINVAL && values.length > 1) this.fail(`${ep}.values`, `expected one value per CPU (${values.length} given)`);
    this.checkRc(rc, ep, 'writing the entry');
  }
}

/**
 * Write the entries of a maps document (text, or an already parsed value) into
 * `maps`. `file` names the document in errors (MapJsonError, with the JSON path).
 */
export function loadMaps(maps: readonly BpfMap[], json: unknown, btf: Btf | undefined, file: string): void {
  const doc = typeof json === 'string' ? parseJson(json, file)
    : json instanceof Uint8Array ? parseJson(new TextDecoder().decode(json), file)
      : json;
  new Loader(maps, btf, file).load(doc);
}
