/**
 * BPF_MAP_TYPE_QUEUE and STACK (kernel/bpf/queue_stack_maps.c): no keys, up
 * to max_entries values. Push: flags other than 0 or BPF_EXIST -EINVAL; when
 * full, -E2BIG unless BPF_EXIST, which drops the oldest value to make room
 * (for a stack too: the bottom one). Pop/peek: the oldest value (queue) or the
 * newest (stack); -ENOENT when empty. lookup/update/delete are -EINVAL (lookup
 * NULL), as the kernel's ops return; from user space BPF_MAP_UPDATE_ELEM pushes
 * and BPF_MAP_LOOKUP_ELEM peeks.
 */
import type { MapDef } from '../object/bpf-object.js';
import { Errno, UpdateFlag, type MapEnv } from './bpf-map.js';
import { MapBase } from './map-base.js';
import { MAP_TYPE } from './map-types.js';

export class QueueStackMap extends MapBase {
  readonly stack: boolean;
  /** Oldest first. */
  private values: Uint8Array[] = [];
  private head = 0;

  constructor(def: MapDef, env: MapEnv) {
    super(def, env);
    this.stack = def.type === MAP_TYPE.STACK;
  }

  get size(): number {
    return this.values.length - this.head;
  }

  private compact(): void {
    if (this.head > 64 && this.head * 2 > this.values.length) {
      this.values = this.values.slice(this.head);
      this.head = 0;
    }
  }

  override push(value: Uint8Array, flags: number): number {
    if (!this.progWritable) return -Errno.EACCES;
    return this.pushValue(value, flags);
  }

  private pushValue(value: Uint8Array, flags: number): number {
    if ((flags & UpdateFlag.NOEXIST) !== 0 || flags > UpdateFlag.EXIST || flags < 0) return -Errno.EINVAL;
    this.checkValue(value);
    if (this.size >= this.def.maxEntries) {
      if ((flags & UpdateFlag.EXIST) === 0) return -Errno.E2BIG;
      this.head++; // overwrite the oldest element
      this.compact();
    }
    this.values.push(value.slice(0, this.def.valueSize));
    return 0;
  }

  override pop(peek: boolean): Uint8Array | number {
    if (!peek && !this.progWritable) return -Errno.EACCES;
    if (this.size === 0) return -Errno.ENOENT;
    if (this.stack) {
      const v = this.values[this.values.length - 1]!;
      if (!peek) this.values.pop();
      if (this.size === 0) {
        this.values = [];
        this.head = 0;
      }
      return v.slice();
    }
    const v = this.values[this.head]!;
    if (!peek) {
      this.head++;
      this.compact();
    }
    return v.slice();
  }

  /** The values held, oldest first (the order to push them in to rebuild the map). */
  contents(): Uint8Array[] {
    return this.values.slice(this.head).map((v) => v.slice());
  }

  /** BPF_MAP_LOOKUP_ELEM from user space peeks (the key is empty). */
  override read(_key: Uint8Array): Uint8Array[] | undefined {
    const v = this.pop(true);
    return typeof v === 'number' ? undefined : [v];
  }

  /** BPF_MAP_UPDATE_ELEM from user space pushes. */
  override write(_key: Uint8Array, values: readonly Uint8Array[], flags: number): number {
    if (!this.userWritable) return -Errno.EPERM;
    if (values.length !== 1) return -Errno.EINVAL;
    return this.pushValue(values[0]!, flags);
  }
}
