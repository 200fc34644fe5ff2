/**
 * What the verifier knows of each helper an XDP program may call: argument
 * types, the return type, whether the helper is GPL-only, whether it changes
 * the packet (invalidating packet pointers), and which map types its map
 * argument accepts. Taken from the helpers' bpf_func_proto definitions
 * (kernel/bpf/helpers.c, net/core/filter.c, kernel/bpf/ringbuf.c,
 * kernel/trace/bpf_trace.c) and check_map_func_compatibility (kernel/bpf/verifier.c).
 */
import { MAP_TYPE } from '../../xdp/maps/map-types.js';

export type ArgType =
  | 'ctx' // PTR_TO_CTX
  | 'map' // CONST_PTR_TO_MAP
  | 'key' // pointer to key_size readable bytes
  | 'value' // pointer to value_size readable bytes
  | 'uninit_value' // pointer to value_size writable bytes
  | 'mem' // pointer to readable memory, size in the next argument
  | 'mem_or_null'
  | 'uninit_mem' // pointer to writable memory, size in the next argument
  | 'fixed_mem' // pointer to readable memory of the prototype's fixedSizes[argument] bytes
  | 'size' // constant-bounded size > 0 of the previous memory argument
  | 'size_or_zero'
  | 'alloc_size' // a known constant (ringbuf reserve)
  | 'ringbuf_mem' // a pointer bpf_ringbuf_reserve returned (released by the call)
  | 'lock' // a bpf_spin_lock inside a map value
  | 'anything';

export type RetType = 'int' | 'void' | 'map_value_or_null' | 'ringbuf_mem_or_null' | 'cpu_id';

export interface HelperProto {
  readonly args: readonly ArgType[];
  readonly ret: RetType;
  readonly gplOnly?: boolean;
  /** Offered only to loaders with CAP_PERFMON (bpf_base_func_proto): others are told the program type cannot use it. */
  readonly perfmon?: boolean;
  readonly packetChanging?: boolean;
  /** Map types the map argument may be; any when absent. */
  readonly mapTypes?: readonly number[];
  /** Sizes of 'fixed_mem' arguments, by argument index (0 = r1). */
  readonly fixedSizes?: Readonly<Record<number, number>>;
}

/** sizeof(struct iphdr), sizeof(struct ipv6hdr), sizeof(struct tcphdr). */
const IPHDR = 20;
const IPV6HDR = 40;
const TCPHDR = 20;

const QUEUE_STACK = [MAP_TYPE.QUEUE, MAP_TYPE.STACK];
const REDIRECT = [MAP_TYPE.DEVMAP, MAP_TYPE.DEVMAP_HASH, MAP_TYPE.CPUMAP, MAP_TYPE.XSKMAP];

export const HELPER_PROTOS: Readonly<Record<number, HelperProto>> = {
  1: { args: ['map', 'key'], ret: 'map_value_or_null' }, // map_lookup_elem
  2: { args: ['map', 'key', 'value', 'anything'], ret: 'int' }, // map_update_elem
  3: { args: ['map', 'key'], ret: 'int' }, // map_delete_elem
  5: { args: [], ret: 'int' }, // ktime_get_ns
  6: { args: ['mem', 'size'], ret: 'int', gplOnly: true, perfmon: true }, // trace_printk (r3-r5 are read only if the format uses them)
  7: { args: [], ret: 'int' }, // get_prandom_u32
  8: { args: [], ret: 'cpu_id' }, // get_smp_processor_id
  12: { args: ['ctx', 'map', 'anything'], ret: 'void', mapTypes: [MAP_TYPE.PROG_ARRAY] }, // tail_call
  14: { args: [], ret: 'int' }, // get_current_pid_tgid
  23: { args: ['anything', 'anything'], ret: 'int' }, // redirect
  25: { args: ['ctx', 'map', 'anything', 'mem', 'size_or_zero'], ret: 'int', gplOnly: true, mapTypes: [MAP_TYPE.PERF_EVENT_ARRAY] }, // perf_event_output
  28: { args: ['mem_or_null', 'size_or_zero', 'mem_or_null', 'size_or_zero', 'anything'], ret: 'int' }, // csum_diff
  42: { args: [], ret: 'int' }, // get_numa_node_id
  44: { args: ['ctx', 'anything'], ret: 'int', packetChanging: true }, // xdp_adjust_head
  51: { args: ['map', 'anything', 'anything'], ret: 'int', mapTypes: REDIRECT }, // redirect_map
  54: { args: ['ctx', 'anything'], ret: 'int', packetChanging: true }, // xdp_adjust_meta
  65: { args: ['ctx', 'anything'], ret: 'int', packetChanging: true }, // xdp_adjust_tail
  69: { args: ['ctx', 'uninit_mem', 'size', 'anything'], ret: 'int' }, // fib_lookup
  87: { args: ['map', 'value', 'anything'], ret: 'int', mapTypes: QUEUE_STACK }, // map_push_elem
  88: { args: ['map', 'uninit_value'], ret: 'int', mapTypes: QUEUE_STACK }, // map_pop_elem
  89: { args: ['map', 'uninit_value'], ret: 'int', mapTypes: QUEUE_STACK }, // map_peek_elem
  93: { args: ['lock'], ret: 'void' }, // spin_lock
  94: { args: ['lock'], ret: 'void' }, // spin_unlock
  125: { args: [], ret: 'int' }, // ktime_get_boot_ns
  130: { args: ['map', 'mem', 'size_or_zero', 'anything'], ret: 'int', mapTypes: [MAP_TYPE.RINGBUF] }, // ringbuf_output
  131: { args: ['map', 'alloc_size', 'anything'], ret: 'ringbuf_mem_or_null', mapTypes: [MAP_TYPE.RINGBUF] }, // ringbuf_reserve
  132: { args: ['ringbuf_mem', 'anything'], ret: 'void' }, // ringbuf_submit
  133: { args: ['ringbuf_mem', 'anything'], ret: 'void' }, // ringbuf_discard
  134: { args: ['map', 'anything'], ret: 'int', mapTypes: [MAP_TYPE.RINGBUF] }, // ringbuf_query
  160: { args: [], ret: 'int' }, // ktime_get_coarse_ns
  188: { args: ['ctx'], ret: 'int' }, // xdp_get_buff_len
  189: { args: ['ctx', 'anything', 'uninit_mem', 'size'], ret: 'int' }, // xdp_load_bytes
  190: { args: ['ctx', 'anything', 'mem', 'size'], ret: 'int' }, // xdp_store_bytes
  // The XDP SYN-proxy helpers: a SYN cookie for (IP header, TCP header), and its check on the ACK.
  204: { args: ['fixed_mem', 'mem', 'size_or_zero'], ret: 'int', gplOnly: true, fixedSizes: { 0: IPHDR } }, // tcp_raw_gen_syncookie_ipv4
  205: { args: ['fixed_mem', 'mem', 'size_or_zero'], ret: 'int', gplOnly: true, fixedSizes: { 0: IPV6HDR } }, // tcp_raw_gen_syncookie_ipv6
  206: { args: ['fixed_mem', 'fixed_mem'], ret: 'int', gplOnly: true, fixedSizes: { 0: IPHDR, 1: TCPHDR } }, // tcp_raw_check_syncookie_ipv4
  207: { args: ['fixed_mem', 'fixed_mem'], ret: 'int', gplOnly: true, fixedSizes: { 0: IPV6HDR, 1: TCPHDR } }, // tcp_raw_check_syncookie_ipv6
  208: { args: [], ret: 'int' }, // ktime_get_tai_ns
};

/** Map types that only certain helpers may take (the other direction of the compatibility check). */
export const MAP_ONLY_FOR: Readonly<Record<number, readonly number[]>> = {
  [MAP_TYPE.PROG_ARRAY]: [12],
  [MAP_TYPE.PERF_EVENT_ARRAY]: [25],
  [MAP_TYPE.RINGBUF]: [130, 131, 134],
  [MAP_TYPE.QUEUE]: [87, 88, 89],
  [MAP_TYPE.STACK]: [87, 88, 89],
  [MAP_TYPE.DEVMAP]: [51, 1],
  [MAP_TYPE.DEVMAP_HASH]: [51, 1],
  [MAP_TYPE.CPUMAP]: [51],
  [MAP_TYPE.XSKMAP]: [51, 1],
};
