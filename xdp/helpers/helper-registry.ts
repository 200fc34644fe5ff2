/**
 * The helper registry: what the kernel's `struct bpf_func_proto` says of each BPF helper, in one
 * table by helper id, with what this project adds to it. Every reader (the verifier, the offload
 * rules, card profiles, listings, the host engines) asks here, and names a helper by its
 * HelperId constant, never by its number.
 *
 * Per helper id (1..211) one record, HelperSpec:
 * - id and name: include/uapi/linux/bpf.h's `enum bpf_func_id`, from the `__BPF_FUNC_MAPPER`
 *   list (helper-ids.ts); the name is `bpf_` + the enum name.
 * - xdp: whether the kernel lets an XDP program call it: net/core/filter.c's xdp_func_proto (the
 *   XDP-specific ones: perf_event_output, csum_diff, xdp_adjust_head/meta/tail, redirect,
 *   redirect_map, xdp_get_buff_len, xdp_load_bytes, xdp_store_bytes, fib_lookup, check_mtu, the
 *   socket lookups and the syncookie helpers) falling back to bpf_sk_base_func_proto and
 *   kernel/bpf/helpers.c's bpf_base_func_proto (maps, time, ring buffers, timers, dynptrs, and for
 *   a loader with CAP_PERFMON the tracing helpers). The list is what Linux 6.18 answers to a
 *   privileged loader: a program calling helper N is refused with "program of this type cannot
 *   use helper" exactly when N is not xdp here. test/verifier/helper-registry.test.ts asks the
 *   running kernel for every id and prints any difference.
 * - proto: what the verifier knows of the helper, present for the helpers it models (every helper
 *   the host engine has): argument types, the return type, whether the helper is GPL-only,
 *   whether it changes the packet (invalidating packet pointers), and which map types its map
 *   argument accepts. Taken from the helpers' bpf_func_proto definitions (kernel/bpf/helpers.c,
 *   net/core/filter.c, kernel/bpf/ringbuf.c, kernel/trace/bpf_trace.c) and
 *   check_map_func_compatibility (kernel/bpf/verifier.c), which MAP_ONLY_FOR completes.
 * - flagsArg: which argument register carries the helper's flags (from the helpers' signatures
 *   in include/uapi/linux/bpf.h): what a card profile may pin to one value (caps/profile.ts
 *   HelperCap.flags) and the offload rules then check.
 * - allowedFlags: the flags the kernel accepts, where this project implements the check (the
 *   host engine's helpers and maps); absent where nothing here defines the mask.
 * - kernelOnly: for the helpers whose answer comes from kernel state the host does not have, what
 *   of the kernel's they need (the SYN-cookie helpers hash with the kernel's secret,
 *   net/core/filter.c: bpf_tcp_raw_gen_syncookie_ipv4 → __cookie_v4_init_sequence); the host
 *   engines refuse them (xdp/runtime/kernel-only.ts).
 */
import { UpdateFlag } from '../maps/bpf-map.js';
import { MAP_TYPE } from '../maps/map-types.js';
import { RingbufFlag } from '../maps/ringbuf-map.js';
import { HelperId, type HelperIdValue } from './helper-ids.js';

export { HelperId, type HelperIdName, type HelperIdValue } from './helper-ids.js';

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

export interface HelperSpec {
  readonly id: HelperIdValue;
  /** `bpf_` + the enum name: `bpf_map_lookup_elem`. */
  readonly name: string;
  /** An XDP program may call it (xdp_func_proto). */
  readonly xdp: boolean;
  /** The verifier's model of it; absent for the helpers it does not model. */
  readonly proto?: HelperProto;
  /** The argument register (1..5) that carries its flags. */
  readonly flagsArg?: number;
  /** The flag bits the kernel accepts in that argument, where this project defines them. */
  readonly allowedFlags?: number;
  /** What of the kernel's it needs, for a helper only the running kernel can run. */
  readonly kernelOnly?: string;
}

/** bpf_redirect_map's flags (include/uapi/linux/bpf.h): send to every entry of the map, but not the ingress device. */
export const BPF_F_BROADCAST = 1 << 3;
export const BPF_F_EXCLUDE_INGRESS = 1 << 4;
/** The low bits of bpf_redirect_map's flags: the action returned on a miss (XDP_ABORTED..XDP_TX, net/core/filter.c action_mask). */
export const REDIRECT_MAP_ACTION_MASK = 3;

/** bpf_map_update_elem: BPF_ANY | BPF_NOEXIST | BPF_EXIST | BPF_F_LOCK (each map type then refuses what it does not support). */
const UPDATE_FLAGS = UpdateFlag.ANY | UpdateFlag.NOEXIST | UpdateFlag.EXIST | UpdateFlag.LOCK;
/**
 * bpf_redirect_map: the miss action, BPF_F_BROADCAST, BPF_F_EXCLUDE_INGRESS (__bpf_xdp_redirect_map; the
 * broadcast flags are the devmaps', the host engine takes this mask for every map type).
 */
const REDIRECT_MAP_FLAGS = REDIRECT_MAP_ACTION_MASK | BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS;
/** bpf_ringbuf_output: BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP. */
const RINGBUF_OUTPUT_FLAGS = RingbufFlag.NO_WAKEUP | RingbufFlag.FORCE_WAKEUP;

/** sizeof(struct iphdr), sizeof(struct ipv6hdr), sizeof(struct tcphdr). */
const IPHDR = 20;
const IPV6HDR = 40;
const TCPHDR = 20;

const QUEUE_STACK = [MAP_TYPE.QUEUE, MAP_TYPE.STACK];
const REDIRECT = [MAP_TYPE.DEVMAP, MAP_TYPE.DEVMAP_HASH, MAP_TYPE.CPUMAP, MAP_TYPE.XSKMAP];
const SYNCOOKIE_SECRET = 'the kernel\'s SYN-cookie secret';

type HelperFacts = Omit<HelperSpec, 'id' | 'name'>;

/**
 * What is known of each helper beyond its id and name. A helper missing here has nothing but
 * those: no XDP program may call it. bpf_redirect refuses any flag (XDP_ABORTED) and
 * bpf_ringbuf_reserve any flag (NULL), hence their allowedFlags 0.
 */
const FACTS: Readonly<Partial<Record<HelperIdValue, HelperFacts>>> = {
  [HelperId.MAP_LOOKUP_ELEM]: { xdp: true, proto: { args: ['map', 'key'], ret: 'map_value_or_null' } },
  [HelperId.MAP_UPDATE_ELEM]: { xdp: true, proto: { args: ['map', 'key', 'value', 'anything'], ret: 'int' }, flagsArg: 4, allowedFlags: UPDATE_FLAGS },
  [HelperId.MAP_DELETE_ELEM]: { xdp: true, proto: { args: ['map', 'key'], ret: 'int' } },
  [HelperId.KTIME_GET_NS]: { xdp: true, proto: { args: [], ret: 'int' } },
  [HelperId.TRACE_PRINTK]: { xdp: true, proto: { args: ['mem', 'size'], ret: 'int', gplOnly: true, perfmon: true } }, // r3-r5 are read only if the format uses them
  [HelperId.GET_PRANDOM_U32]: { xdp: true, proto: { args: [], ret: 'int' } },
  [HelperId.GET_SMP_PROCESSOR_ID]: { xdp: true, proto: { args: [], ret: 'cpu_id' } },
  [HelperId.TAIL_CALL]: { xdp: true, proto: { args: ['ctx', 'map', 'anything'], ret: 'void', mapTypes: [MAP_TYPE.PROG_ARRAY] } },
  [HelperId.GET_CURRENT_PID_TGID]: { xdp: true, proto: { args: [], ret: 'int' } },
  [HelperId.GET_CURRENT_UID_GID]: { xdp: true },
  [HelperId.GET_CURRENT_COMM]: { xdp: true },
  [HelperId.GET_CGROUP_CLASSID]: { xdp: true },
  [HelperId.PERF_EVENT_READ]: { xdp: true },
  [HelperId.REDIRECT]: { xdp: true, proto: { args: ['anything', 'anything'], ret: 'int' }, flagsArg: 2, allowedFlags: 0 },
  [HelperId.PERF_EVENT_OUTPUT]: { xdp: true, proto: { args: ['ctx', 'map', 'anything', 'mem', 'size_or_zero'], ret: 'int', gplOnly: true, mapTypes: [MAP_TYPE.PERF_EVENT_ARRAY] }, flagsArg: 3 },
  [HelperId.CSUM_DIFF]: { xdp: true, proto: { args: ['mem_or_null', 'size_or_zero', 'mem_or_null', 'size_or_zero', 'anything'], ret: 'int' } },
  [HelperId.GET_CURRENT_TASK]: { xdp: true },
  [HelperId.CURRENT_TASK_UNDER_CGROUP]: { xdp: true },
  [HelperId.GET_NUMA_NODE_ID]: { xdp: true, proto: { args: [], ret: 'int' } },
  [HelperId.XDP_ADJUST_HEAD]: { xdp: true, proto: { args: ['ctx', 'anything'], ret: 'int', packetChanging: true } },
  [HelperId.REDIRECT_MAP]: { xdp: true, proto: { args: ['map', 'anything', 'anything'], ret: 'int', mapTypes: REDIRECT }, flagsArg: 3, allowedFlags: REDIRECT_MAP_FLAGS },
  [HelperId.XDP_ADJUST_META]: { xdp: true, proto: { args: ['ctx', 'anything'], ret: 'int', packetChanging: true } },
  [HelperId.PERF_EVENT_READ_VALUE]: { xdp: true },
  [HelperId.XDP_ADJUST_TAIL]: { xdp: true, proto: { args: ['ctx', 'anything'], ret: 'int', packetChanging: true } },
  [HelperId.FIB_LOOKUP]: { xdp: true, proto: { args: ['ctx', 'uninit_mem', 'size', 'anything'], ret: 'int' }, flagsArg: 4 },
  [HelperId.GET_CURRENT_CGROUP_ID]: { xdp: true },
  [HelperId.SK_LOOKUP_TCP]: { xdp: true },
  [HelperId.SK_LOOKUP_UDP]: { xdp: true },
  [HelperId.SK_RELEASE]: { xdp: true },
  [HelperId.MAP_PUSH_ELEM]: { xdp: true, proto: { args: ['map', 'value', 'anything'], ret: 'int', mapTypes: QUEUE_STACK } },
  [HelperId.MAP_POP_ELEM]: { xdp: true, proto: { args: ['map', 'uninit_value'], ret: 'int', mapTypes: QUEUE_STACK } },
  [HelperId.MAP_PEEK_ELEM]: { xdp: true, proto: { args: ['map', 'uninit_value'], ret: 'int', mapTypes: QUEUE_STACK } },
  [HelperId.SPIN_LOCK]: { xdp: true, proto: { args: ['lock'], ret: 'void' } },
  [HelperId.SPIN_UNLOCK]: { xdp: true, proto: { args: ['lock'], ret: 'void' } },
  [HelperId.SKC_LOOKUP_TCP]: { xdp: true },
  [HelperId.TCP_CHECK_SYNCOOKIE]: { xdp: true },
  [HelperId.STRTOL]: { xdp: true },
  [HelperId.STRTOUL]: { xdp: true },
  [HelperId.SEND_SIGNAL]: { xdp: true },
  [HelperId.TCP_GEN_SYNCOOKIE]: { xdp: true },
  [HelperId.PROBE_READ_USER]: { xdp: true },
  [HelperId.PROBE_READ_KERNEL]: { xdp: true },
  [HelperId.PROBE_READ_USER_STR]: { xdp: true },
  [HelperId.PROBE_READ_KERNEL_STR]: { xdp: true },
  [HelperId.SEND_SIGNAL_THREAD]: { xdp: true },
  [HelperId.JIFFIES64]: { xdp: true },
  [HelperId.GET_NS_CURRENT_PID_TGID]: { xdp: true },
  [HelperId.GET_CURRENT_ANCESTOR_CGROUP_ID]: { xdp: true },
  [HelperId.KTIME_GET_BOOT_NS]: { xdp: true, proto: { args: [], ret: 'int' } },
  [HelperId.RINGBUF_OUTPUT]: { xdp: true, proto: { args: ['map', 'mem', 'size_or_zero', 'anything'], ret: 'int', mapTypes: [MAP_TYPE.RINGBUF] }, flagsArg: 4, allowedFlags: RINGBUF_OUTPUT_FLAGS },
  [HelperId.RINGBUF_RESERVE]: { xdp: true, proto: { args: ['map', 'alloc_size', 'anything'], ret: 'ringbuf_mem_or_null', mapTypes: [MAP_TYPE.RINGBUF] }, flagsArg: 3, allowedFlags: 0 },
  [HelperId.RINGBUF_SUBMIT]: { xdp: true, proto: { args: ['ringbuf_mem', 'anything'], ret: 'void' }, flagsArg: 2 },
  [HelperId.RINGBUF_DISCARD]: { xdp: true, proto: { args: ['ringbuf_mem', 'anything'], ret: 'void' }, flagsArg: 2 },
  [HelperId.RINGBUF_QUERY]: { xdp: true, proto: { args: ['map', 'anything'], ret: 'int', mapTypes: [MAP_TYPE.RINGBUF] } },
  [HelperId.SKC_TO_TCP6_SOCK]: { xdp: true },
  [HelperId.SKC_TO_TCP_SOCK]: { xdp: true },
  [HelperId.SKC_TO_TCP_TIMEWAIT_SOCK]: { xdp: true },
  [HelperId.SKC_TO_TCP_REQUEST_SOCK]: { xdp: true },
  [HelperId.SKC_TO_UDP6_SOCK]: { xdp: true },
  [HelperId.GET_TASK_STACK]: { xdp: true },
  [HelperId.COPY_FROM_USER]: { xdp: true },
  [HelperId.SNPRINTF_BTF]: { xdp: true },
  [HelperId.PER_CPU_PTR]: { xdp: true },
  [HelperId.THIS_CPU_PTR]: { xdp: true },
  [HelperId.TASK_STORAGE_GET]: { xdp: true },
  [HelperId.TASK_STORAGE_DELETE]: { xdp: true },
  [HelperId.GET_CURRENT_TASK_BTF]: { xdp: true },
  [HelperId.KTIME_GET_COARSE_NS]: { xdp: true, proto: { args: [], ret: 'int' } },
  [HelperId.CHECK_MTU]: { xdp: true },
  [HelperId.FOR_EACH_MAP_ELEM]: { xdp: true },
  [HelperId.SNPRINTF]: { xdp: true },
  [HelperId.TIMER_INIT]: { xdp: true },
  [HelperId.TIMER_SET_CALLBACK]: { xdp: true },
  [HelperId.TIMER_START]: { xdp: true },
  [HelperId.TIMER_CANCEL]: { xdp: true },
  [HelperId.TASK_PT_REGS]: { xdp: true },
  [HelperId.GET_BRANCH_SNAPSHOT]: { xdp: true },
  [HelperId.TRACE_VPRINTK]: { xdp: true },
  [HelperId.SKC_TO_UNIX_SOCK]: { xdp: true },
  [HelperId.FIND_VMA]: { xdp: true },
  [HelperId.LOOP]: { xdp: true },
  [HelperId.STRNCMP]: { xdp: true },
  [HelperId.XDP_GET_BUFF_LEN]: { xdp: true, proto: { args: ['ctx'], ret: 'int' } },
  [HelperId.XDP_LOAD_BYTES]: { xdp: true, proto: { args: ['ctx', 'anything', 'uninit_mem', 'size'], ret: 'int' } },
  [HelperId.XDP_STORE_BYTES]: { xdp: true, proto: { args: ['ctx', 'anything', 'mem', 'size'], ret: 'int' } },
  [HelperId.COPY_FROM_USER_TASK]: { xdp: true },
  [HelperId.KPTR_XCHG]: { xdp: true },
  [HelperId.MAP_LOOKUP_PERCPU_ELEM]: { xdp: true },
  [HelperId.SKC_TO_MPTCP_SOCK]: { xdp: true },
  [HelperId.DYNPTR_FROM_MEM]: { xdp: true },
  [HelperId.RINGBUF_RESERVE_DYNPTR]: { xdp: true },
  [HelperId.RINGBUF_SUBMIT_DYNPTR]: { xdp: true },
  [HelperId.RINGBUF_DISCARD_DYNPTR]: { xdp: true },
  [HelperId.DYNPTR_READ]: { xdp: true },
  [HelperId.DYNPTR_WRITE]: { xdp: true },
  [HelperId.DYNPTR_DATA]: { xdp: true },
  // The XDP SYN-proxy helpers: a SYN cookie for (IP header, TCP header), and its check on the ACK.
  [HelperId.TCP_RAW_GEN_SYNCOOKIE_IPV4]: { xdp: true, proto: { args: ['fixed_mem', 'mem', 'size_or_zero'], ret: 'int', gplOnly: true, fixedSizes: { 0: IPHDR } }, kernelOnly: SYNCOOKIE_SECRET },
  [HelperId.TCP_RAW_GEN_SYNCOOKIE_IPV6]: { xdp: true, proto: { args: ['fixed_mem', 'mem', 'size_or_zero'], ret: 'int', gplOnly: true, fixedSizes: { 0: IPV6HDR } }, kernelOnly: SYNCOOKIE_SECRET },
  [HelperId.TCP_RAW_CHECK_SYNCOOKIE_IPV4]: { xdp: true, proto: { args: ['fixed_mem', 'fixed_mem'], ret: 'int', gplOnly: true, fixedSizes: { 0: IPHDR, 1: TCPHDR } }, kernelOnly: SYNCOOKIE_SECRET },
  [HelperId.TCP_RAW_CHECK_SYNCOOKIE_IPV6]: { xdp: true, proto: { args: ['fixed_mem', 'fixed_mem'], ret: 'int', gplOnly: true, fixedSizes: { 0: IPV6HDR, 1: TCPHDR } }, kernelOnly: SYNCOOKIE_SECRET },
  [HelperId.KTIME_GET_TAI_NS]: { xdp: true, proto: { args: [], ret: 'int' } },
  [HelperId.USER_RINGBUF_DRAIN]: { xdp: true },
  [HelperId.CGRP_STORAGE_GET]: { xdp: true },
  [HelperId.CGRP_STORAGE_DELETE]: { xdp: true },
};

/** Map types that only certain helpers may take (the other direction of the compatibility check). */
export const MAP_ONLY_FOR: Readonly<Record<number, readonly number[]>> = {
  [MAP_TYPE.PROG_ARRAY]: [HelperId.TAIL_CALL],
  [MAP_TYPE.PERF_EVENT_ARRAY]: [HelperId.PERF_EVENT_OUTPUT],
  [MAP_TYPE.RINGBUF]: [HelperId.RINGBUF_OUTPUT, HelperId.RINGBUF_RESERVE, HelperId.RINGBUF_QUERY],
  [MAP_TYPE.QUEUE]: [HelperId.MAP_PUSH_ELEM, HelperId.MAP_POP_ELEM, HelperId.MAP_PEEK_ELEM],
  [MAP_TYPE.STACK]: [HelperId.MAP_PUSH_ELEM, HelperId.MAP_POP_ELEM, HelperId.MAP_PEEK_ELEM],
  [MAP_TYPE.DEVMAP]: [HelperId.REDIRECT_MAP, HelperId.MAP_LOOKUP_ELEM],
  [MAP_TYPE.DEVMAP_HASH]: [HelperId.REDIRECT_MAP, HelperId.MAP_LOOKUP_ELEM],
  [MAP_TYPE.CPUMAP]: [HelperId.REDIRECT_MAP],
  [MAP_TYPE.XSKMAP]: [HelperId.REDIRECT_MAP, HelperId.MAP_LOOKUP_ELEM],
};

/** The records, index = id (0, BPF_FUNC_unspec, is no helper). */
const SPECS: readonly (HelperSpec | undefined)[] = (() => {
  const specs: (HelperSpec | undefined)[] = [undefined];
  for (const [key, id] of Object.entries(HelperId)) {
    specs[id] = { id, name: `bpf_${key.toLowerCase()}`, xdp: false, ...FACTS[id] };
  }
  return specs;
})();

const BY_NAME: ReadonlyMap<string, HelperIdValue> = new Map(Object.entries(HelperId).map(([key, id]) => [key.toLowerCase(), id]));

/** The record of helper `id`; undefined for an id the kernel does not define. */
export function helperSpec(id: number): HelperSpec | undefined {
  return id > 0 ? SPECS[id] : undefined;
}

/** `bpf_<name>` for a known helper id, undefined otherwise. */
export function helperName(id: number): string | undefined {
  return helperSpec(id)?.name;
}

/** The id of a helper by name, with or without its `bpf_` prefix. */
export function helperId(name: string): HelperIdValue | undefined {
  return BY_NAME.get(name.startsWith('bpf_') ? name.slice(4) : name);
}

/** Every helper id, 1..the highest, in order. */
export function helperIds(): HelperIdValue[] {
  return SPECS.flatMap((s) => (s ? [s.id] : []));
}

/** The verifier's prototype of helper `id`, when it models it. */
export function helperProto(id: number): HelperProto | undefined {
  return helperSpec(id)?.proto;
}
