/**
 * The XDP redirect maps: DEVMAP and DEVMAP_HASH (kernel/bpf/devmap.c), CPUMAP
 * (kernel/bpf/cpumap.c) and XSKMAP (net/xdp/xskmap.c). They hold netdevices,
 * CPU queues and AF_XDP sockets; on the host they hold what user space wrote
 * (the host has no netdevices or sockets to check the numbers against), and
 * `target(index)` tells bpf_redirect_map where a packet goes.
 *
 * Program and map "fds" on the host: a 32-bit value that the kernel would take
 * as a program fd names program `fd - 1` of MapEnv.programs, and the id the
 * kernel shows in its place is the same number (docs/maps.md).
 *
 * What a program's bpf_map_lookup_elem gets, as the kernel gives it:
 * - DEVMAP/DEVMAP_HASH: a read-only pointer to `struct bpf_devmap_val`
 *   (ifindex, then the program id when value_size is 8) — dev_map_lookup_elem,
 *   with the map made BPF_F_RDONLY_PROG by dev_map_init_map.
 * - XSKMAP: a pointer to the socket, which the verifier types PTR_TO_XDP_SOCK:
 *   a program may read only `struct bpf_xdp_sock { __u32 queue_id; }`. On the
 *   host that is a read-only 4-byte value holding the queue id, taken to be the
 *   map index (AF_XDP sockets are bound to the queue of their index by
 *   convention; the host has no socket to ask).
 * - CPUMAP: NULL (the verifier allows only bpf_redirect_map on a CPUMAP).
 */
import type { MapDef } from '../object/bpf-object.js';
import { Errno, UpdateFlag, type MapEnv, type ValueRef } from './bpf-map.js';
import { MapBase } from './map-base.js';
import { MAP_TYPE } from './map-types.js';
import { CPUMAP_MAX_QSIZE } from './map-validate.js';
import { SlotAllocator, ValueSlab } from './value-slab.js';

/** Where bpf_redirect_map sends a packet for a populated slot. */
export interface RedirectTarget {
  readonly kind: 'device' | 'cpu' | 'xsk';
  /** DEVMAP/DEVMAP_HASH: the egress ifindex. */
  readonly ifindex?: number;
  /** CPUMAP: the CPU (the key) and its queue size. */
  readonly cpu?: number;
  readonly qsize?: number;
  /** XSKMAP: the socket (the value written) and its queue id. */
  readonly socket?: number;
  readonly queueId?: number;
  /** DEVMAP/CPUMAP 8-byte values: the program to run on the redirected frame, if any. */
  readonly program?: string;
}

/** The maps bpf_redirect_map takes. */
export interface RedirectMap {
  target(index: number): RedirectTarget | undefined;
}

abstract class IndexedMap extends MapBase implements RedirectMap {
  abstract target(index: number): RedirectTarget | undefined;

  protected index(key: Uint8Array): number {
    this.checkKey(key);
    return this.u32(key);
  }

  /** The program a host fd names (fd - 1 in MapEnv.programs), or undefined. */
  protected program(fd: number): string | undefined {
    return fd >= 1 ? this.env.programs?.[fd - 1] : undefined;
  }

  override update(key: Uint8Array, value: Uint8Array, flags: number, _cpu: number): number {
    return this.write(key, [value], flags);
  }

  override write(key: Uint8Array, values: readonly Uint8Array[], flags: number): number {
    if (!this.userWritable) return -Errno.EPERM;
    if (values.length !== 1) return -Errno.EINVAL;
    this.checkValue(values[0]!);
    return this.store(this.index(key), values[0]!, flags);
  }

  protected abstract store(index: number, value: Uint8Array, flags: number): number;
}

/** DEVMAP and DEVMAP_HASH. */
export class DevMap extends IndexedMap {
  readonly hashed: boolean;
  /** key → slot of the value (ifindex, program id) in the read-only slab. */
  private readonly entries = new Map<number, number>();
  private readonly slab: ValueSlab;
  private readonly slots: SlotAllocator;

  constructor(def: MapDef, env: MapEnv) {
    super(def, env);
    this.hashed = def.type === MAP_TYPE.DEVMAP_HASH;
    const capacity = def.maxEntries + (this.hashed ? 1 : 0);
    this.slab = new ValueSlab({ memory: env.memory, map: def.index, valueSize: def.valueSize, capacity, copies: 1, writable: false });
    this.slots = new SlotAllocator(capacity);
  }

  override lookup(key: Uint8Array, _cpu: number): ValueRef | undefined {
    const slot = this.entries.get(this.index(key));
    return slot === undefined ? undefined : this.slab.ref(slot);
  }

  override target(index: number): RedirectTarget | undefined {
    const slot = this.entries.get(index);
    if (slot === undefined) return undefined;
    const v = this.slab.view(slot);
    const prog = this.def.valueSize >= 8 ? this.program(this.u32(v, 4)) : undefined;
    return { kind: 'device', ifindex: this.u32(v), ...(prog !== undefined ? { program: prog } : {}) };
  }

  /** __dev_map_update_elem / __dev_map_hash_update_elem. */
  protected override store(index: number, value: Uint8Array, flags: number): number {
    const ifindex = this.u32(value);
    const progFd = this.def.valueSize >= 8 ? this.i32(value, 4) : -1;
    if (flags > UpdateFlag.EXIST || flags < 0) return -Errno.EINVAL;
    let old = this.entries.get(index);
    if (this.hashed) {
      if (ifindex === 0) return -Errno.EINVAL;
      if (old !== undefined && (flags & UpdateFlag.NOEXIST) !== 0) return -Errno.EEXIST;
    } else {
      if (index >= this.def.maxEntries) return -Errno.E2BIG;
      if (flags === UpdateFlag.NOEXIST) return -Errno.EEXIST;
      if (ifindex === 0) {
        // A NULL entry; naming a program without a device is refused.
        if (progFd > 0) return -Errno.EINVAL;
        if (old !== undefined) this.entries.delete(index);
        return 0;
      }
    }
    if (progFd > 0 && this.program(progFd) === undefined) return -Errno.EINVAL;
    if (this.hashed && old === undefined && this.entries.size >= this.def.maxEntries) return -Errno.E2BIG;
    const slot = this.hashed ? this.slots.alloc() : index;
    const stored = this.def.valueSize >= 8 ? this.u32Bytes(ifindex, progFd > 0 ? progFd : 0) : this.u32Bytes(ifindex);
    this.slab.write(slot, 0, stored);
    if (this.hashed && old !== undefined) this.slots.free(old);
    old = slot;
    this.entries.set(index, old);
    return 0;
  }

  override delete(key: Uint8Array, _cpu: number): number {
    const index = this.index(key);
    const slot = this.entries.get(index);
    if (this.hashed) {
      if (slot === undefined) return -Errno.ENOENT;
      this.slots.free(slot);
    } else if (index >= this.def.maxEntries) {
      return -Errno.EINVAL;
    }
    this.entries.delete(index);
    return 0;
  }

  override keys(): Uint8Array[] {
    const ks = [...this.entries.keys()];
    if (!this.hashed) ks.sort((a, b) => a - b);
    return ks.map((k) => this.u32Bytes(k));
  }

  override read(key: Uint8Array): Uint8Array[] | undefined {
    const slot = this.entries.get(this.index(key));
    return slot === undefined ? undefined : [this.slab.read(slot)];
  }
}

/** CPUMAP: per-CPU queues for XDP_REDIRECT; the value is `struct bpf_cpumap_val { __u32 qsize; program fd }`. */
export class CpuMap extends IndexedMap {
  private readonly entries = new Map<number, { qsize: number; prog: number }>();

  override target(index: number): RedirectTarget | undefined {
    const e = this.entries.get(index);
    if (e === undefined) return undefined;
    const prog = this.program(e.prog);
    return { kind: 'cpu', cpu: index, qsize: e.qsize, ...(prog !== undefined ? { program: prog } : {}) };
  }

  /** cpu_map_update_elem. */
  protected override store(index: number, value: Uint8Array, flags: number): number {
    const qsize = this.u32(value);
    const progFd = this.def.valueSize >= 8 ? this.i32(value, 4) : 0;
    if (flags > UpdateFlag.EXIST || flags < 0) return -Errno.EINVAL;
    if (index >= this.def.maxEntries) return -Errno.E2BIG;
    if (flags === UpdateFlag.NOEXIST) return -Errno.EEXIST;
    if (qsize > CPUMAP_MAX_QSIZE) return -Errno.EOVERFLOW;
    if (index >= this.env.cpus) return -Errno.ENODEV;
    if (qsize === 0) {
      this.entries.delete(index);
      return 0;
    }
    if (progFd > 0 && this.program(progFd) === undefined) return -Errno.EINVAL;
    this.entries.set(index, { qsize, prog: progFd > 0 ? progFd : 0 });
    return 0;
  }

  override delete(key: Uint8Array, _cpu: number): number {
    const index = this.index(key);
    if (index >= this.def.maxEntries) return -Errno.EINVAL;
    this.entries.delete(index);
    return 0;
  }

  override keys(): Uint8Array[] {
    return [...this.entries.keys()].sort((a, b) => a - b).map((k) => this.u32Bytes(k));
  }

  override read(key: Uint8Array): Uint8Array[] | undefined {
    const e = this.entries.get(this.index(key));
    if (e === undefined) return undefined;
    return [this.def.valueSize >= 8 ? this.u32Bytes(e.qsize, e.prog) : this.u32Bytes(e.qsize)];
  }
}

/** XSKMAP: AF_XDP sockets by index. */
export class XskMap extends IndexedMap {
  private readonly sockets = new Map<number, number>();
  /** Per slot, the `struct bpf_xdp_sock` a program may read: { __u32 queue_id }. */
  private readonly xdpSock: ValueSlab;

  constructor(def: MapDef, env: MapEnv) {
    super(def, env);
    this.xdpSock = new ValueSlab({ memory: env.memory, map: def.index, valueSize: 4, capacity: def.maxEntries, copies: 1, writable: false });
  }

  override lookup(key: Uint8Array, _cpu: number): ValueRef | undefined {
    const index = this.index(key);
    return this.sockets.has(index) ? this.xdpSock.ref(index) : undefined;
  }

  override target(index: number): RedirectTarget | undefined {
    const socket = this.sockets.get(index);
    return socket === undefined ? undefined : { kind: 'xsk', socket, queueId: index };
  }

  /** xsk_map_update_elem. */
  protected override store(index: number, value: Uint8Array, flags: number): number {
    const socket = this.u32(value);
    if (flags > UpdateFlag.EXIST || flags < 0) return -Errno.EINVAL;
    if (index >= this.def.maxEntries) return -Errno.E2BIG;
    const old = this.sockets.get(index);
    if (old === socket) return 0;
    if (old !== undefined && flags === UpdateFlag.NOEXIST) return -Errno.EEXIST;
    if (old === undefined && flags === UpdateFlag.EXIST) return -Errno.ENOENT;
    this.sockets.set(index, socket);
    this.xdpSock.write(index, 0, this.u32Bytes(index));
    return 0;
  }

  override delete(key: Uint8Array, _cpu: number): number {
    const index = this.index(key);
    if (index >= this.def.maxEntries) return -Errno.EINVAL;
    this.sockets.delete(index);
    return 0;
  }

  override keys(): Uint8Array[] {
    return [...this.sockets.keys()].sort((a, b) => a - b).map((k) => this.u32Bytes(k));
  }

  /** The socket value written (the kernel refuses user-space lookups here with -EOPNOTSUPP; the host shows it for dumps). */
  override read(key: Uint8Array): Uint8Array[] | undefined {
    const s = this.sockets.get(this.index(key));
    return s === undefined ? undefined : [this.u32Bytes(s)];
  }
}
