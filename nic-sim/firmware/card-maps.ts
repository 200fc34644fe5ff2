/**
 * The card's map store: what the card firmware keeps for the maps of a loaded image
 * (docs/nic-image.md "Card maps (EMEM)"). Every value lives in one EMEM byte array, so
 * a translated program reaches it through the address a lookup returns; keys, the
 * hash index and perf events live here, in the firmware's own tables.
 *
 * Layout *(project, docs/nic-image.md)*: map i of the table gets `maxEntries` slots of
 * round_up(valueSize, 8) bytes (the kernel's elem_size), from byte address 64 upward
 * (address 0 is NULL), each map's base 8-byte aligned, in table order. Table ids are
 * 1..n in table order.
 *
 * Semantics (the public facts implemented): kernel/bpf/arraymap.c for ARRAY — every
 * element exists from the start, the key is a little-endian u32 index,
 * array_map_update_elem refuses unknown flags (-EINVAL), an index >= max_entries
 * (-E2BIG), BPF_NOEXIST (-EEXIST), BPF_F_LOCK without a spin lock (-EINVAL), and
 * delete is always -EINVAL; kernel/bpf/hashtab.c for HASH — htab_map_update_elem's
 * flag check (BPF_F_LOCK needs a spin lock: -EINVAL), BPF_NOEXIST on a present key
 * -EEXIST, BPF_EXIST on an absent key -ENOENT, a new key when max_entries are present
 * -E2BIG, delete of an absent key -ENOENT; BPF_F_RDONLY_PROG maps refuse the
 * program's update/delete (-EACCES), BPF_F_RDONLY maps refuse user space's writes
 * (-EPERM). PERF_EVENT_ARRAY (kernel/trace/bpf_trace.c __bpf_perf_event_output) holds
 * no values: it collects the samples bpf_perf_event_output writes, slot i holding an
 * event on CPU i for i below the CPU count (what libbpf's perf_buffer sets up), and
 * libbpf's max_entries 0 → the CPU count.
 *
 * The host's maps (xdp/maps/array-map.ts, hash-map.ts, perf-event-array-map.ts) give
 * the same return codes, keys and values; where this store differs (a hash update of
 * a present key writes the value in place; see the module's tests) it is said there.
 * Hash slots are handed out never-used first, then freed ones first in, first out.
 */
import type { ImageMap } from '../image/image-types.js';
import { XdpError } from '../../xdp/errors.js';
import { Errno, UpdateFlag } from '../../xdp/maps/bpf-map.js';
import { MAP_TYPE, MapFlag, mapTypeName } from '../../xdp/maps/map-types.js';
import { KeyIndex, fixedTableLength } from './key-index.js';

/**
 * One entry of the image's map table as the card gets it; `initial` (ARRAY only) the bytes of values
 * 0, 1, … (a `.rodata`/`.data` map: the whole value of entry 0), absent for none.
 */
export type CardMapDef = Omit<ImageMap, 'initial'> & { readonly initial?: Uint8Array };

export type CardMapErrorKind =
  /** A map type the card does not implement. */
  | 'unsupported-type'
  /** A definition the card refuses (sizes, entries, initial contents). */
  | 'bad-definition'
  /** The maps' values do not fit the card's EMEM. */
  | 'emem-full'
  /** A map index outside the table. */
  | 'no-such-map'
  /** A caller's key or value of the wrong length, or a slot or CPU outside the map. */
  | 'bad-argument'
  /** An operation the map's type does not have (events of a hash, values of a perf event array). */
  | 'wrong-type';

export class CardMapError extends XdpError {
  readonly kind: CardMapErrorKind;
  /** The map's name ('' when no map is named). */
  readonly map: string;
  constructor(kind: CardMapErrorKind, map: string, reason: string) {
    super(map !== '' ? `card map '${map}': ${reason}` : reason);
    this.kind = kind;
    this.map = map;
  }
}

/** One sample bpf_perf_event_output wrote. */
export interface CardEvent {
  /** The perf event array slot it went to. */
  readonly index: number;
  /** The CPU that wrote it. */
  readonly cpu: number;
  readonly data: Uint8Array;
}

export interface CardMapsOptions {
  /** CPUs of the card (perf event array slots with an event, valid `cpu` arguments); default 1. */
  readonly cpus?: number;
  /** The most EMEM bytes the store may allocate; default 1 GiB. */
  readonly maxEmemBytes?: number;
  /**
   * Zeroed storage in the card's memory (card-memory.ts): `ememBytes` for EMEM, and
   * `indexBytes` for the HASH maps' key indexes (key-index.ts fixed storage, where the
   * WebAssembly executor finds keys itself); fresh arrays otherwise.
   */
  readonly allocate?: (ememBytes: number, indexBytes: number) => { readonly emem: Uint8Array; readonly index: Uint8Array };
}

/** Where a HASH map's key index lies in the index storage: its table (Int32, `mask` + 1 entries) and its keys (`keySize` bytes a slot), byte offsets. */
export interface HashIndexPlace {
  readonly table: number;
  readonly mask: number;
  readonly keys: number;
  readonly keySize: number;
}

/** The most bytes the key indexes take in the card's memory; past them, the indexes live in JavaScript arrays. */
const MAX_INDEX_BYTES = 256 * 1024 * 1024;

/** First EMEM address a value may have: 0 is NULL, and the first 64 bytes stay unused. */
export const EMEM_MAPS_BASE = 64;
/** BPF_F_CURRENT_CPU = BPF_F_INDEX_MASK (include/uapi/linux/bpf.h). */
export const BPF_F_CURRENT_CPU = 0xffffffff;
const DEFAULT_MAX_EMEM = 1 << 30;

const roundUp8 = (n: number): number => Math.ceil(n / 8) * 8;

/** One map's state besides its EMEM values. */
interface Store {
  readonly def: CardMapDef;
  readonly base: number;
  readonly stride: number;
  /** HASH: the present keys and their value slots, in insertion order (key-index.ts). */
  readonly index: KeyIndex;
  /** HASH: the next never-used slot. */
  next: number;
  /** HASH: freed slots, first in first out (from `head`). */
  readonly freed: number[];
  head: number;
  /** PERF_EVENT_ARRAY: samples written and not consumed. */
  events: CardEvent[];
}

/** The EMEM address of an ARRAY's element idx, or 0 past its end. */
function arrayValueAt(st: Store, idx: number): number {
  return idx < st.def.maxEntries ? st.base + idx * st.stride : 0;
}

export class CardMaps {
  /** Every map value, at the addresses lookups return. */
  readonly emem: Uint8Array;
  /** The table as the card keeps it (a perf event array's max_entries 0 made the CPU count). */
  readonly defs: readonly CardMapDef[];
  readonly cpus: number;
  private readonly stores: Store[];
  /** Where each HASH map's key index lies in the index storage (undefined: not there). */
  private readonly indexPlaces: readonly (HashIndexPlace | undefined)[];

  constructor(table: readonly CardMapDef[], opts: CardMapsOptions = {}) {
    const cpus = opts.cpus ?? 1;
    if (!(Number.isInteger(cpus) && cpus >= 1)) throw new CardMapError('bad-argument', '', `cpus ${cpus}: expected a positive integer`);
    this.cpus = cpus;
    const maxBytes = opts.maxEmemBytes ?? DEFAULT_MAX_EMEM;
    const defs: CardMapDef[] = [];
    const layout: { base: number; stride: number }[] = [];
    let at = EMEM_MAPS_BASE;
    for (const raw of table) {
      const def = checkDef(raw, cpus);
      defs.push(def);
      const stride = def.type === MAP_TYPE.PERF_EVENT_ARRAY ? 0 : roundUp8(def.valueSize);
      layout.push({ base: at, stride });
      at = roundUp8(at + stride * def.maxEntries);
      if (at > maxBytes) {
        throw new CardMapError('emem-full', def.name, `${def.maxEntries} values of ${stride} bytes end at EMEM byte ${at}, above the card's ${maxBytes}`);
      }
    }
    this.defs = defs;
    // The HASH maps' key indexes in the card's memory, one after the other, when it is given and they fit.
    const places: (HashIndexPlace | undefined)[] = [];
    let indexBytes = 0;
    for (const def of defs) {
      if (!opts.allocate || def.type !== MAP_TYPE.HASH) {
        places.push(undefined);
        continue;
      }
      const entries = fixedTableLength(def.maxEntries);
      const table = indexBytes;
      const keys = table + 4 * entries;
      places.push({ table, mask: entries - 1, keys, keySize: def.keySize });
      indexBytes = roundUp8(keys + def.maxEntries * def.keySize);
    }
    if (indexBytes > MAX_INDEX_BYTES) {
      places.fill(undefined);
      indexBytes = 0;
    }
    const storage = opts.allocate ? opts.allocate(at, indexBytes) : { emem: new Uint8Array(at), index: new Uint8Array(0) };
    this.emem = storage.emem;
    this.indexPlaces = places;
    const idx = storage.index;
    this.stores = defs.map((def, i) => {
      const p = places[i];
      const fixed = p === undefined ? undefined : {
        table: new Int32Array(idx.buffer, idx.byteOffset + p.table, p.mask + 1),
        keys: new Uint8Array(idx.buffer, idx.byteOffset + p.keys, def.maxEntries * def.keySize),
      };
      return {
        def, base: layout[i]!.base, stride: layout[i]!.stride,
        index: new KeyIndex(def.keySize, fixed), next: 0, freed: [], head: 0, events: [],
      };
    });
    for (const st of this.stores) {
      const init = st.def.initial;
      if (init === undefined) continue;
      const n = st.def.valueSize;
      for (let k = 0; k * n < init.length; k++) this.emem.set(init.subarray(k * n, (k + 1) * n), st.base + k * st.stride);
    }
  }

  /** Number of maps in the table. */
  get length(): number {
    return this.stores.length;
  }

  /** The card's table id of map i: 1..n in table order. */
  tableId(i: number): number {
    this.store(i);
    return i + 1;
  }

  /** The map index a table id names, or undefined. */
  mapIndexOfTable(id: number): number | undefined {
    return Number.isInteger(id) && id >= 1 && id <= this.stores.length ? id - 1 : undefined;
  }

  /** Where map i's key index lies in the index storage `allocate` gave, when it is a HASH map kept there. */
  hashIndex(i: number): HashIndexPlace | undefined {
    this.store(i);
    return this.indexPlaces[i];
  }

  /** EMEM address of map i's first value slot. */
  base(i: number): number {
    return this.store(i).base;
  }

  /** Bytes between map i's value slots: round_up(valueSize, 8) (0 for a perf event array). */
  stride(i: number): number {
    return this.store(i).stride;
  }

  /** EMEM address of value slot `slot` of map i (an array's value `slot`). */
  valueAddress(i: number, slot: number): number {
    const st = this.store(i);
    if (st.def.type === MAP_TYPE.PERF_EVENT_ARRAY) throw new CardMapError('wrong-type', st.def.name, 'a perf event array has no values');
    if (!(Number.isInteger(slot) && slot >= 0 && slot < st.def.maxEntries)) {
      throw new CardMapError('bad-argument', st.def.name, `value slot ${slot} outside 0..${st.def.maxEntries - 1}`);
    }
    return st.base + slot * st.stride;
  }

  // --- the program's side (the firmware helpers) ---

  /**
   * `lookup` of the key `keySize` bytes at `at` of `mem` (the firmware reads it from the
   * thread's LM), without copying it out for an ARRAY's 4-byte index.
   */
  lookupAt(i: number, mem: Uint8Array, at: number): number {
    const st = this.store(i);
    if (st.def.type === MAP_TYPE.ARRAY && st.def.keySize === 4) {
      return arrayValueAt(st, (mem[at]! | (mem[at + 1]! << 8) | (mem[at + 2]! << 16) | (mem[at + 3]! << 24)) >>> 0);
    }
    if (st.def.type === MAP_TYPE.HASH && at + st.def.keySize <= mem.length) {
      const slot = st.index.find(mem, at);
      return slot < 0 ? 0 : st.base + slot * st.stride;
    }
    return this.lookup(i, mem.subarray(at, at + st.def.keySize));
  }

  /** bpf_map_lookup_elem: the EMEM address of the key's value, or 0. */
  lookup(i: number, key: Uint8Array): number {
    const st = this.store(i);
    switch (st.def.type) {
      case MAP_TYPE.ARRAY: {
        this.checkKey(st, key);
        return arrayValueAt(st, u32le(key));
      }
      case MAP_TYPE.HASH: {
        this.checkKey(st, key);
        const slot = st.index.find(key, 0);
        return slot < 0 ? 0 : st.base + slot * st.stride;
      }
      default:
        return 0; // a perf event array has no values a program can see
    }
  }

  /** bpf_map_update_elem: 0 or -errno. */
  update(i: number, key: Uint8Array, value: Uint8Array, flags: number): number {
    const st = this.store(i);
    if (st.def.type === MAP_TYPE.PERF_EVENT_ARRAY) return -Errno.EBADF; // its slots hold perf event fds
    if ((st.def.flags & MapFlag.RDONLY_PROG) !== 0) return -Errno.EACCES;
    return this.store_(st, key, value, flags);
  }

  /** bpf_map_delete_elem: 0 or -errno. */
  delete(i: number, key: Uint8Array): number {
    const st = this.store(i);
    if (st.def.type !== MAP_TYPE.HASH) {
      if (st.def.type === MAP_TYPE.ARRAY) this.checkKey(st, key);
      return -Errno.EINVAL;
    }
    if ((st.def.flags & MapFlag.RDONLY_PROG) !== 0) return -Errno.EACCES;
    this.checkKey(st, key);
    const slot = st.index.find(key, 0);
    if (slot < 0) return -Errno.ENOENT;
    st.index.remove(slot);
    st.freed.push(slot);
    return 0;
  }

  /**
   * bpf_perf_event_output's map part: `index` is the helper's flags' low word (BPF_F_CURRENT_CPU:
   * the calling CPU's slot). 0, or -E2BIG (index >= max_entries), -ENOENT (a slot without an
   * event), -EOPNOTSUPP (another CPU's event).
   */
  output(i: number, index: number, cpu: number, data: Uint8Array): number {
    const st = this.perf(i);
    if (!(Number.isInteger(cpu) && cpu >= 0 && cpu < this.cpus)) {
      throw new CardMapError('bad-argument', st.def.name, `cpu ${cpu} outside 0..${this.cpus - 1}`);
    }
    const slot = index >>> 0 === BPF_F_CURRENT_CPU ? cpu : index >>> 0;
    if (slot >= st.def.maxEntries) return -Errno.E2BIG;
    if (slot >= this.cpus) return -Errno.ENOENT;
    if (slot !== cpu) return -Errno.EOPNOTSUPP;
    st.events.push({ index: slot, cpu, data: data.slice() });
    return 0;
  }

  // --- user space's side (the host's view of card maps) ---

  /** Every key present: a hash's in insertion order, an array's every index. */
  keys(i: number): Uint8Array[] {
    const st = this.store(i);
    if (st.def.type === MAP_TYPE.ARRAY) return Array.from({ length: st.def.maxEntries }, (_, k) => u32Bytes(k));
    if (st.def.type === MAP_TYPE.HASH) return st.index.slots().map((slot) => st.index.keyOf(slot));
    return [];
  }

  /** A copy of the key's value, or undefined. */
  value(i: number, key: Uint8Array): Uint8Array | undefined {
    const st = this.store(i);
    const at = this.lookup(i, key);
    return at === 0 ? undefined : this.emem.slice(at, at + st.def.valueSize);
  }

  /** Write from user space: the update with BPF_F_RDONLY's -EPERM instead of RDONLY_PROG's -EACCES. */
  write(i: number, key: Uint8Array, value: Uint8Array, flags = UpdateFlag.ANY as number): number {
    const st = this.store(i);
    if (st.def.type === MAP_TYPE.PERF_EVENT_ARRAY) return -Errno.EBADF;
    if ((st.def.flags & MapFlag.RDONLY) !== 0) return -Errno.EPERM;
    return this.store_(st, key, value, flags);
  }

  /** The samples a perf event array holds, in the order they were written (copies). */
  events(i: number): CardEvent[] {
    return this.perf(i).events.map((e) => ({ index: e.index, cpu: e.cpu, data: e.data.slice() }));
  }

  /** The samples a perf event array holds, forgotten. */
  consume(i: number): CardEvent[] {
    const st = this.perf(i);
    const out = st.events;
    st.events = [];
    return out;
  }

  // --- inside ---

  private store(i: number): Store {
    const st = Number.isInteger(i) ? this.stores[i] : undefined;
    if (st === undefined) throw new CardMapError('no-such-map', '', `map index ${i} outside the table of ${this.stores.length}`);
    return st;
  }

  private perf(i: number): Store {
    const st = this.store(i);
    if (st.def.type !== MAP_TYPE.PERF_EVENT_ARRAY) {
      throw new CardMapError('wrong-type', st.def.name, `a ${mapTypeName(st.def.type)} map has no perf events`);
    }
    return st;
  }

  private checkKey(st: Store, key: Uint8Array): void {
    if (key.length !== st.def.keySize) throw new CardMapError('bad-argument', st.def.name, `key of ${key.length} bytes, expected ${st.def.keySize}`);
  }

  private checkValue(st: Store, value: Uint8Array): void {
    if (value.length < st.def.valueSize) throw new CardMapError('bad-argument', st.def.name, `value of ${value.length} bytes, expected ${st.def.valueSize}`);
  }

  /** The update of an ARRAY or HASH (access already checked), in the kernel's order of checks. */
  private store_(st: Store, key: Uint8Array, value: Uint8Array, flags: number): number {
    this.checkKey(st, key);
    const f = flags >>> 0;
    const op = (f & ~UpdateFlag.LOCK) >>> 0;
    const lock = (f & UpdateFlag.LOCK) !== 0;
    if (st.def.type === MAP_TYPE.ARRAY) {
      if (op > UpdateFlag.EXIST) return -Errno.EINVAL;
      const idx = u32le(key);
      if (idx >= st.def.maxEntries) return -Errno.E2BIG;
      if ((op & UpdateFlag.NOEXIST) !== 0) return -Errno.EEXIST;
      if (lock) return -Errno.EINVAL;
      this.checkValue(st, value);
      this.emem.set(value.subarray(0, st.def.valueSize), st.base + idx * st.stride);
      return 0;
    }
    if (op > UpdateFlag.EXIST || lock) return -Errno.EINVAL;
    this.checkValue(st, value);
    const old = st.index.find(key, 0);
    if (old >= 0 && op === UpdateFlag.NOEXIST) return -Errno.EEXIST;
    if (old < 0 && op === UpdateFlag.EXIST) return -Errno.ENOENT;
    let slot: number;
    if (old >= 0) {
      slot = old;
    } else {
      if (st.index.size >= st.def.maxEntries) return -Errno.E2BIG;
      slot = st.next < st.def.maxEntries ? st.next++ : (st.freed[st.head++] as number);
      if (st.head > 1024 && st.head * 2 > st.freed.length) {
        st.freed.splice(0, st.head);
        st.head = 0;
      }
      st.index.add(key, 0, slot);
    }
    const at = st.base + slot * st.stride;
    this.emem.fill(0, at, at + st.stride);
    this.emem.set(value.subarray(0, st.def.valueSize), at);
    return 0;
  }
}

function u32le(b: Uint8Array): number {
  return ((b[0] as number) | ((b[1] as number) << 8) | ((b[2] as number) << 16) | ((b[3] as number) << 24)) >>> 0;
}

function u32Bytes(v: number): Uint8Array {
  return Uint8Array.of(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
}

const isU32 = (v: number): boolean => Number.isInteger(v) && v >= 0 && v <= 0xffffffff;

/** The card's checks of one table entry (the kernel's alloc checks that matter to the layout). */
function checkDef(def: CardMapDef, cpus: number): CardMapDef {
  const bad = (reason: string): never => {
    throw new CardMapError('bad-definition', def.name, reason);
  };
  if (def.type !== MAP_TYPE.ARRAY && def.type !== MAP_TYPE.HASH && def.type !== MAP_TYPE.PERF_EVENT_ARRAY) {
    throw new CardMapError('unsupported-type', def.name, `map type ${mapTypeName(def.type)} (${def.type}) is not supported on the card (supported: ARRAY, HASH, PERF_EVENT_ARRAY)`);
  }
  for (const [field, v] of [['key_size', def.keySize], ['value_size', def.valueSize], ['max_entries', def.maxEntries], ['flags', def.flags]] as const) {
    if (!isU32(v)) bad(`${field} ${v}: expected a u32`);
  }
  let out = def;
  if (def.type === MAP_TYPE.PERF_EVENT_ARRAY) {
    if (def.keySize !== 4 || def.valueSize !== 4) bad(`key_size ${def.keySize}, value_size ${def.valueSize}: a perf event array takes 4 and 4`);
    if (def.maxEntries === 0) out = { ...def, maxEntries: cpus };
  } else {
    if (def.maxEntries === 0) bad('max_entries 0: expected at least 1');
    if (def.valueSize === 0) bad('value_size 0: expected at least 1');
    if (def.type === MAP_TYPE.ARRAY && def.keySize !== 4) bad(`key_size ${def.keySize}: expected 4 (the key is a u32 index)`);
    if (def.type === MAP_TYPE.HASH && def.keySize === 0) bad('key_size 0: expected at least 1');
  }
  if (def.initial !== undefined) {
    if (def.type !== MAP_TYPE.ARRAY) bad('initial contents are for arrays only');
    if (def.initial.length > def.valueSize * def.maxEntries) {
      bad(`initial contents of ${def.initial.length} bytes, more than ${def.maxEntries} values of ${def.valueSize}`);
    }
  }
  return out;
}
