/**
 * Which program type an ELF section name announces, following libbpf's section
 * naming convention (the SEC() names documented in libbpf's "Program types and
 * ELF sections" page). Only XDP programs are this tool's business; the rest are
 * recognised so that a refusal can name what the section holds.
 */

export interface SectionType {
  /** Kernel program type name (enum bpf_prog_type without the prefix). */
  readonly progType: string;
  /** Expected attach type, where the section implies one. */
  readonly attach?: string;
  /** XDP program that accepts multi-buffer packets (BPF_F_XDP_HAS_FRAGS). */
  readonly frags?: boolean;
  /**
   * The type does not come from a libbpf 1.0 section name: `legacy-name` is a pre-1.0 name taken as
   * XDP (libbpf < 1.0 matched "xdp" as a prefix), `option` is what the user said (`--type xdp`).
   */
  readonly assumed?: 'legacy-name' | 'option';
}

/** Longest prefix wins; a prefix ending in '/' needs something after it, others match exactly or before a '/'. */
const SECTION_TABLE: readonly (readonly [string, SectionType])[] = [
  ['xdp.frags/devmap', { progType: 'XDP', attach: 'XDP_DEVMAP', frags: true }],
  ['xdp.frags/cpumap', { progType: 'XDP', attach: 'XDP_CPUMAP', frags: true }],
  ['xdp/devmap', { progType: 'XDP', attach: 'XDP_DEVMAP' }],
  ['xdp/cpumap', { progType: 'XDP', attach: 'XDP_CPUMAP' }],
  ['xdp.frags', { progType: 'XDP', attach: 'XDP', frags: true }],
  ['xdp', { progType: 'XDP', attach: 'XDP' }],
  ['socket', { progType: 'SOCKET_FILTER' }],
  ['sk_reuseport', { progType: 'SK_REUSEPORT' }],
  ['kprobe', { progType: 'KPROBE' }],
  ['uprobe', { progType: 'KPROBE' }],
  ['kretprobe', { progType: 'KPROBE' }],
  ['uretprobe', { progType: 'KPROBE' }],
  ['ksyscall', { progType: 'KPROBE' }],
  ['kprobe.multi', { progType: 'KPROBE' }],
  ['uprobe.multi', { progType: 'KPROBE' }],
  ['tc', { progType: 'SCHED_CLS' }],
  ['tcx', { progType: 'SCHED_CLS' }],
  ['netkit', { progType: 'SCHED_CLS' }],
  ['classifier', { progType: 'SCHED_CLS' }],
  ['action', { progType: 'SCHED_ACT' }],
  ['tracepoint', { progType: 'TRACEPOINT' }],
  ['tp', { progType: 'TRACEPOINT' }],
  ['raw_tracepoint', { progType: 'RAW_TRACEPOINT' }],
  ['raw_tp', { progType: 'RAW_TRACEPOINT' }],
  ['tp_btf', { progType: 'TRACING' }],
  ['fentry', { progType: 'TRACING' }],
  ['fexit', { progType: 'TRACING' }],
  ['fmod_ret', { progType: 'TRACING' }],
  ['iter', { progType: 'TRACING' }],
  ['lsm', { progType: 'LSM' }],
  ['perf_event', { progType: 'PERF_EVENT' }],
  ['lwt_in', { progType: 'LWT_IN' }],
  ['lwt_out', { progType: 'LWT_OUT' }],
  ['lwt_xmit', { progType: 'LWT_XMIT' }],
  ['lwt_seg6local', { progType: 'LWT_SEG6LOCAL' }],
  ['sockops', { progType: 'SOCK_OPS' }],
  ['sk_skb', { progType: 'SK_SKB' }],
  ['sk_msg', { progType: 'SK_MSG' }],
  ['lirc_mode2', { progType: 'LIRC_MODE2' }],
  ['flow_dissector', { progType: 'FLOW_DISSECTOR' }],
  ['cgroup_skb', { progType: 'CGROUP_SKB' }],
  ['cgroup/skb', { progType: 'CGROUP_SKB' }],
  ['cgroup/dev', { progType: 'CGROUP_DEVICE' }],
  ['cgroup/sysctl', { progType: 'CGROUP_SYSCTL' }],
  ['cgroup/getsockopt', { progType: 'CGROUP_SOCKOPT' }],
  ['cgroup/setsockopt', { progType: 'CGROUP_SOCKOPT' }],
  ['cgroup', { progType: 'CGROUP_SOCK_ADDR' }],
  ['struct_ops', { progType: 'STRUCT_OPS' }],
  ['sk_lookup', { progType: 'SK_LOOKUP' }],
  ['syscall', { progType: 'SYSCALL' }],
  ['netfilter', { progType: 'NETFILTER' }],
];

/** The program type a section name announces, or undefined for a section that holds no program type we know. */
export function sectionType(section: string): SectionType | undefined {
  for (const [prefix, type] of SECTION_TABLE) {
    if (section === prefix || section.startsWith(`${prefix}/`)) {
      return type;
    }
  }
  return undefined;
}

export const isXdpSection = (section: string): boolean => sectionType(section)?.progType === 'XDP';
