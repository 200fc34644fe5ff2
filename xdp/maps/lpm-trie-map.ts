/**
 * BPF_MAP_TYPE_LPM_TRIE (kernel/bpf/lpm_trie.c). A key is
 * `struct bpf_lpm_trie_key_u8 { __u32 prefixlen; __u8 data[]; }` (prefixlen in
 * host byte order, data in network order, bits compared from the most
 * significant bit of data[0]).
 *
 * Lookup: among the stored prefixes whose length is at most the key's
 * prefixlen and whose first `length` bits equal the key's, the longest one
 * (a program normally looks up with prefixlen = 8 * data bytes, a full address);
 * a prefixlen beyond the data gives NULL. Update/delete: prefixlen beyond the
 * data -EINVAL; unknown flags -EINVAL; BPF_NOEXIST on a present prefix -EEXIST;
 * BPF_EXIST on an absent one -ENOENT; a new prefix when max_entries are stored
 * -ENOSPC; delete of an absent prefix -ENOENT. Two keys with the same prefix
 * length and the same first `prefixlen` bits are the same element; the data
 * bits beyond the prefix are kept as last written (as the kernel's node keeps
 * the key it was given).
 *
 * keys() walks the trie in the kernel's trie_get_next_key order (post-order:
 * more specific prefixes before the prefix that contains them, the 0 branch
 * before the 1 branch).
 */
import type { MapDef } from '../object/bpf-object.js';
import { Errno, UpdateFlag, type MapEnv, type ValueRef } from './bpf-map.js';
import { MapBase, keyString } from './map-base.js';
import { SlotAllocator, ValueSlab } from './value-slab.js';

interface Prefix {
  /** The key as last written: prefixlen and data. */
  key: Uint8Array;
  readonly prefixlen: number;
  slot: number;
}

export class LpmTrieMap extends MapBase {
  /** Data bytes per key. */
  readonly dataSize: number;
  readonly maxPrefixlen: number;
  /** Prefixes by `${prefixlen}/${masked data}`. */
  private readonly prefixes = new Map<string, Prefix>();
  /** How many stored prefixes have each length (to try only lengths that exist). */
  private readonly lengthCount = new Map<number, number>();
  private lengths: number[] = [];
  private readonly slab: ValueSlab;
  private readonly slots: SlotAllocator;

  constructor(def: MapDef, env: MapEnv) {
    super(def, env);
    this.dataSize = def.keySize - 4;
    this.maxPrefixlen = this.dataSize * 8;
    this.slab = new ValueSlab({
      memory: env.memory, map: def.index, valueSize: def.valueSize, capacity: def.maxEntries + 1,
      copies: 1, writable: this.progWritable,
    });
    this.slots = new SlotAllocator(def.maxEntries + 1);
  }

  private masked(data: Uint8Array, prefixlen: number): string {
    const bytes = Math.ceil(prefixlen / 8);
    const out = data.slice(0, bytes);
    if (prefixlen % 8 !== 0) out[bytes - 1]! &= 0xff << (8 - (prefixlen % 8));
    return `${prefixlen}/${keyString(out)}`;
  }

  private split(key: Uint8Array): { prefixlen: number; data: Uint8Array } {
    this.checkKey(key);
    return { prefixlen: this.u32(key), data: key.subarray(4) };
  }

  private setLengthCount(len: number, delta: number): void {
    const n = (this.lengthCount.get(len) ?? 0) + delta;
    if (n === 0) this.lengthCount.delete(len);
    else this.lengthCount.set(len, n);
    this.lengths = [...this.lengthCount.keys()].sort((a, b) => b - a);
  }

  private find(key: Uint8Array): Prefix | undefined {
    const { prefixlen, data } = this.split(key);
    if (prefixlen > this.maxPrefixlen) return undefined;
    for (const len of this.lengths) {
      if (len > prefixlen) continue;
      const p = this.prefixes.get(this.masked(data, len));
      if (p !== undefined) return p;
    }
    return undefined;
  }

  override lookup(key: Uint8Array, _cpu: number): ValueRef | undefined {
    const p = this.find(key);
    return p === undefined ? undefined : this.slab.ref(p.slot);
  }

  /** The longest-prefix match for `key`: the stored key and a copy of its value (user-space lookup). */
  match(key: Uint8Array): { key: Uint8Array; value: Uint8Array } | undefined {
    const p = this.find(key);
    return p === undefined ? undefined : { key: p.key.slice(), value: this.slab.read(p.slot) };
  }

  override update(key: Uint8Array, value: Uint8Array, flags: number, _cpu: number): number {
    if (!this.progWritable) return -Errno.EACCES;
    return this.store(key, value, flags);
  }

  private store(key: Uint8Array, value: Uint8Array, flags: number): number {
    const { prefixlen, data } = this.split(key);
    if (flags > UpdateFlag.EXIST || flags < 0) return -Errno.EINVAL;
    if (prefixlen > this.maxPrefixlen) return -Errno.EINVAL;
    this.checkValue(value);
    const k = this.masked(data, prefixlen);
    const old = this.prefixes.get(k);
    if (old !== undefined) {
      if (flags === UpdateFlag.NOEXIST) return -Errno.EEXIST;
    } else {
      if (flags === UpdateFlag.EXIST) return -Errno.ENOENT;
      if (this.prefixes.size >= this.def.maxEntries) return -Errno.ENOSPC;
    }
    const slot = this.slots.alloc();
    this.slab.write(slot, 0, value);
    if (old !== undefined) {
      // trie_update_elem replaces the node: a new value element, the key as now given.
      this.slots.free(old.slot);
      old.slot = slot;
      old.key = key.slice();
    } else {
      this.prefixes.set(k, { key: key.slice(), prefixlen, slot });
      this.setLengthCount(prefixlen, 1);
    }
    return 0;
  }

  override delete(key: Uint8Array, _cpu: number): number {
    if (!this.progWritable) return -Errno.EACCES;
    const { prefixlen, data } = this.split(key);
    if (prefixlen > this.maxPrefixlen) return -Errno.EINVAL;
    const k = this.masked(data, prefixlen);
    const p = this.prefixes.get(k);
    if (p === undefined) return -Errno.ENOENT;
    this.prefixes.delete(k);
    this.slots.free(p.slot);
    this.setLengthCount(prefixlen, -1);
    return 0;
  }

  /** Every stored key in the kernel's get_next_key (post-order) order. */
  override keys(): Uint8Array[] {
    const bit = (d: Uint8Array, i: number): number => (d[i >> 3]! >> (7 - (i & 7))) & 1;
    const order = (a: Prefix, b: Prefix): number => {
      const da = a.key.subarray(4);
      const db = b.key.subarray(4);
      const limit = Math.min(a.prefixlen, b.prefixlen);
      for (let i = 0; i < limit; i++) {
        const x = bit(da, i);
        const y = bit(db, i);
        if (x !== y) return x - y;
      }
      // One contains the other: the more specific (longer) prefix comes first.
      return b.prefixlen - a.prefixlen;
    };
    return [...this.prefixes.values()].sort(order).map((p) => p.key.slice());
  }

  /**
   * BPF_MAP_LOOKUP_ELEM from user space: the longest-prefix match, as for a program (for a stored key
   * that is the element itself, which is how a dump walking keys() reads every element).
   */
  override read(key: Uint8Array): Uint8Array[] | undefined {
    const p = this.find(key);
    return p === undefined ? undefined : [this.slab.read(p.slot)];
  }

  override write(key: Uint8Array, values: readonly Uint8Array[], flags: number): number {
    if (!this.userWritable) return -Errno.EPERM;
    if (values.length !== 1) return -Errno.EINVAL;
    return this.store(key, values[0]!, flags);
  }
}
