/**
 * The keys of a card HASH map, found by their bytes: an open-addressing table (linear
 * probing; a power-of-two size, at most half full counting deleted entries) of the value
 * slots that hold keys, each slot's key kept in one byte array. A lookup hashes and
 * compares the key where it lies — in the thread's local memory, for the firmware — so
 * it makes no string and copies nothing (a JS Map keyed by the key's bytes made a string
 * per lookup, most of a hash map packet's time). The slots also keep the order their keys
 * arrived in, which user space's walk of the map follows.
 *
 * Hand-written: no maintained package keys a table by byte ranges of typed arrays.
 *
 * With fixed storage (`KeyIndexStorage`: the card's memory, where the WebAssembly
 * executor finds keys itself, nic-sim/core/compile-wasm.ts) the table keeps its size —
 * a power of two at least four times the slots — and is rebuilt in place when deleted
 * marks fill it; the keys have a place for every slot. Which slot a key finds is the
 * same either way.
 */

/** A table entry: 0 empty, −1 deleted, else the slot + 1. */
const EMPTY = 0;
const DELETED = -1;
const MIN_TABLE = 16;

/** 32 bits of the `len` bytes at `at` of `mem` (murmur3's mixing, four bytes at a time; compile-wasm.ts writes the same out). */
function hashBytes(mem: Uint8Array, at: number, len: number): number {
  let h = len;
  let k = 0;
  for (; k + 4 <= len; k += 4) {
    let w = mem[at + k]! | (mem[at + k + 1]! << 8) | (mem[at + k + 2]! << 16) | (mem[at + k + 3]! << 24);
    w = Math.imul(w, 0xcc9e2d51);
    h ^= Math.imul((w << 15) | (w >>> 17), 0x1b873593);
    h = (Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64) | 0;
  }
  let tail = 0;
  for (let j = len - 1; j >= k; j--) tail = (tail << 8) | mem[at + j]!;
  h ^= Math.imul(tail, 0x9e3779b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Where a key index lives when its place is fixed: its table (a power of two long) and a key's bytes for each of `slots` slots. */
export interface KeyIndexStorage {
  readonly table: Int32Array;
  readonly keys: Uint8Array;
}

/** The table length fixed storage needs for `slots` slots: a power of two, at least four times as many (at most half full, with room for deleted marks). */
export function fixedTableLength(slots: number): number {
  let size = MIN_TABLE;
  while (size < 4 * (slots + 1)) size *= 2;
  return size;
}

export class KeyIndex {
  /** Keys present. */
  size = 0;
  private table: Int32Array;
  /** Whether the table and keys are fixed storage (never replaced). */
  private readonly fixed: boolean;
  /** Table entries not empty: keys present and deleted marks. */
  private filled = 0;
  /** Slot s's key: bytes [s · keySize, (s + 1) · keySize). */
  private keys: Uint8Array;
  /** The order keys arrived in: a list through the slots (−1 ends it). */
  private before: Int32Array;
  private after: Int32Array;
  private first = -1;
  private last = -1;

  constructor(readonly keySize: number, storage?: KeyIndexStorage) {
    this.fixed = storage !== undefined;
    this.table = storage?.table ?? new Int32Array(MIN_TABLE);
    this.keys = storage?.keys ?? new Uint8Array(keySize * MIN_TABLE);
    if (this.fixed && (this.table.length < MIN_TABLE || (this.table.length & (this.table.length - 1)) !== 0)) {
      throw new RangeError(`a key index's table is a power of two of at least ${MIN_TABLE} entries, not ${this.table.length}`);
    }
    this.before = new Int32Array(MIN_TABLE);
    this.after = new Int32Array(MIN_TABLE);
  }

  /** The slot holding the `keySize` bytes at `at` of `mem`, or −1. */
  find(mem: Uint8Array, at: number): number {
    const t = this.table;
    const mask = t.length - 1;
    for (let i = hashBytes(mem, at, this.keySize) & mask; ; i = (i + 1) & mask) {
      const e = t[i]!;
      if (e === EMPTY) return -1;
      if (e !== DELETED && this.holds(e - 1, mem, at)) return e - 1;
    }
  }

  /** The key at `at` of `mem` (not present) now held by `slot`, last in the order. */
  add(mem: Uint8Array, at: number, slot: number): void {
    if (2 * (this.filled + 1) > this.table.length) this.rehash(this.fixed ? this.table.length : Math.max(MIN_TABLE, 4 * (this.size + 1)));
    this.reserve(slot + 1);
    const n = this.keySize;
    this.keys.set(mem.subarray(at, at + n), slot * n);
    this.place(slot, hashBytes(mem, at, n));
    this.filled++;
    this.size++;
    this.before[slot] = this.last;
    this.after[slot] = -1;
    if (this.last >= 0) this.after[this.last] = slot;
    else this.first = slot;
    this.last = slot;
  }

  /** The key `slot` holds (present) taken out. */
  remove(slot: number): void {
    const t = this.table;
    const mask = t.length - 1;
    let i = hashBytes(this.keys, slot * this.keySize, this.keySize) & mask;
    while (t[i] !== slot + 1) i = (i + 1) & mask;
    t[i] = DELETED;
    this.size--;
    const b = this.before[slot]!;
    const a = this.after[slot]!;
    if (b >= 0) this.after[b] = a;
    else this.first = a;
    if (a >= 0) this.before[a] = b;
    else this.last = b;
  }

  /** A copy of the key `slot` holds. */
  keyOf(slot: number): Uint8Array {
    return this.keys.slice(slot * this.keySize, (slot + 1) * this.keySize);
  }

  /** The slots holding keys, in the order their keys arrived. */
  slots(): number[] {
    const out: number[] = [];
    for (let s = this.first; s >= 0; s = this.after[s]!) out.push(s);
    return out;
  }

  private holds(slot: number, mem: Uint8Array, at: number): boolean {
    const keys = this.keys;
    const n = this.keySize;
    const from = slot * n;
    for (let k = 0; k < n; k++) if (keys[from + k] !== mem[at + k]) return false;
    return true;
  }

  /** `slot` put in the table at the first free place from its hash. */
  private place(slot: number, hash: number): void {
    const t = this.table;
    const mask = t.length - 1;
    let i = hash & mask;
    while (t[i] !== EMPTY && t[i] !== DELETED) i = (i + 1) & mask;
    if (t[i] === DELETED) this.filled--; // a deleted mark reused: counted again by the caller
    t[i] = slot + 1;
  }

  /** A table of at least `least` entries (a power of two) holding the keys present, without deleted marks (fixed storage: the same table, cleared). */
  private rehash(least: number): void {
    if (this.fixed) {
      this.table.fill(EMPTY);
    } else {
      let size = MIN_TABLE;
      while (size < least) size *= 2;
      this.table = new Int32Array(size);
    }
    for (let s = this.first; s >= 0; s = this.after[s]!) this.place(s, hashBytes(this.keys, s * this.keySize, this.keySize));
    this.filled = this.size;
  }

  /** Room for slots 0 … count − 1. */
  private reserve(count: number): void {
    if (this.fixed && count * this.keySize > this.keys.length) throw new RangeError(`slot ${count - 1} beyond the key index's fixed storage of ${this.keys.length / this.keySize} keys`);
    if (count <= this.before.length) return;
    let cap = this.before.length;
    while (cap < count) cap *= 2;
    if (!this.fixed) {
      const keys = new Uint8Array(cap * this.keySize);
      keys.set(this.keys);
      this.keys = keys;
    }
    const before = new Int32Array(cap);
    before.set(this.before);
    this.before = before;
    const after = new Int32Array(cap);
    after.set(this.after);
    this.after = after;
  }
}
