/**
 * BPF_MAP_TYPE_PERF_EVENT_ARRAY (kernel/bpf/arraymap.c, kernel/trace/bpf_trace.c
 * __bpf_perf_event_output): slots holding perf events that
 * bpf_perf_event_output writes samples to. The host has no perf events: slot i
 * holds an event opened on CPU i for every i below the CPU count, which is what
 * libbpf's perf_buffer sets up.
 *
 * output(index, cpu, data): `index` is the low 32 bits of the helper's flags;
 * BPF_F_CURRENT_CPU (0xffffffff) means the calling CPU's slot. index >=
 * max_entries -E2BIG; a slot without an event -ENOENT; an event of another CPU
 * than the caller's -EOPNOTSUPP (the kernel's event->oncpu check). The
 * helper's other flag bits (BPF_F_CTXLEN_MASK, unknown bits -EINVAL) are the
 * helper's business.
 */
import { Errno } from './bpf-map.js';
import { MapBase } from './map-base.js';

/** BPF_F_CURRENT_CPU = BPF_F_INDEX_MASK. */
export const BPF_F_CURRENT_CPU = 0xffffffff;

export interface PerfEvent {
  readonly cpu: number;
  readonly data: Uint8Array;
}

export class PerfEventArrayMap extends MapBase {
  private samples: PerfEvent[] = [];

  output(index: number, cpu: number, data: Uint8Array): number {
    this.checkCpu(cpu);
    const slot = index >>> 0 === BPF_F_CURRENT_CPU ? cpu : index >>> 0;
    if (slot >= this.def.maxEntries) return -Errno.E2BIG;
    if (slot >= this.env.cpus) return -Errno.ENOENT;
    if (slot !== cpu) return -Errno.EOPNOTSUPP;
    this.samples.push({ cpu: slot, data: data.slice() });
    return 0;
  }

  /** Every sample written and not yet consumed, in order. */
  events(): PerfEvent[] {
    return this.samples.map((e) => ({ cpu: e.cpu, data: e.data.slice() }));
  }

  /** Read the samples and forget them. */
  consume(): PerfEvent[] {
    const out = this.samples;
    this.samples = [];
    return out;
  }

  /** User space puts perf event fds into the slots; the host's slots are fixed. */
  override write(): number {
    return -Errno.EBADF;
  }
  override update(): number {
    return -Errno.EBADF;
  }
}
