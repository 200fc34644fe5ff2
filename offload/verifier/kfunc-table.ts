/**
 * The kernel functions (kfuncs) an XDP program may call, with the flags the
 * kernel registers them with (BTF_ID_FLAGS in the kfunc id sets): which
 * return a reference the program must release (KF_ACQUIRE), which release one
 * (KF_RELEASE), which may return NULL (KF_RET_NULL), which need trusted
 * pointers (KF_TRUSTED_ARGS). The sets are registered per program type with
 * register_btf_kfunc_id_set; the kernel's BTF names the functions but not the
 * sets, so the sets are this table. Sources: net/netfilter/nf_conntrack_bpf.c
 * (nf_ct_kfunc_set, XDP and TC), net/netfilter/nf_nat_bpf.c,
 * net/netfilter/nf_flow_table_bpf.c, net/core/filter.c
 * (bpf_kfunc_check_set_xdp), net/core/xdp.c (xdp_metadata_kfunc_ids, for
 * device-bound programs only), net/xfrm/xfrm_state_bpf.c, and
 * kernel/bpf/helpers.c (generic_btf_ids and common_btf_ids, every program
 * type).
 */

export type KfuncFlag = 'acquire' | 'release' | 'ret_null' | 'trusted_args';

export interface KfuncRule {
  readonly flags: readonly KfuncFlag[];
  /** Offered only to programs bound to a device (the XDP metadata kfuncs). */
  readonly devBound?: boolean;
  /** The kernel source file that registers it. */
  readonly source: string;
}

const CT = 'net/netfilter/nf_conntrack_bpf.c';
const GENERIC = 'kernel/bpf/helpers.c';
const META = 'net/core/xdp.c';

/** Kfuncs an XDP program may call, by name. */
export const XDP_KFUNCS: Readonly<Record<string, KfuncRule>> = {
  bpf_xdp_ct_alloc: { flags: ['acquire', 'ret_null'], source: CT },
  bpf_xdp_ct_lookup: { flags: ['acquire', 'ret_null'], source: CT },
  bpf_skb_ct_alloc: { flags: ['acquire', 'ret_null'], source: CT },
  bpf_skb_ct_lookup: { flags: ['acquire', 'ret_null'], source: CT },
  bpf_ct_insert_entry: { flags: ['acquire', 'ret_null', 'release'], source: CT },
  bpf_ct_release: { flags: ['release'], source: CT },
  bpf_ct_set_timeout: { flags: ['trusted_args'], source: CT },
  bpf_ct_change_timeout: { flags: ['trusted_args'], source: CT },
  bpf_ct_set_status: { flags: ['trusted_args'], source: CT },
  bpf_ct_change_status: { flags: ['trusted_args'], source: CT },
  bpf_ct_set_nat_info: { flags: ['trusted_args'], source: 'net/netfilter/nf_nat_bpf.c' },
  bpf_xdp_flow_lookup: { flags: ['trusted_args', 'ret_null'], source: 'net/netfilter/nf_flow_table_bpf.c' },
  bpf_dynptr_from_xdp: { flags: [], source: 'net/core/filter.c' },
  bpf_xdp_get_xfrm_state: { flags: ['acquire', 'ret_null'], source: 'net/xfrm/xfrm_state_bpf.c' },
  bpf_xdp_xfrm_state_release: { flags: ['release'], source: 'net/xfrm/xfrm_state_bpf.c' },
  bpf_xdp_metadata_rx_timestamp: { flags: [], devBound: true, source: META },
  bpf_xdp_metadata_rx_hash: { flags: [], devBound: true, source: META },
  bpf_xdp_metadata_rx_vlan_tag: { flags: [], devBound: true, source: META },
  bpf_rcu_read_lock: { flags: [], source: GENERIC },
  bpf_rcu_read_unlock: { flags: [], source: GENERIC },
  bpf_cast_to_kern_ctx: { flags: [], source: GENERIC },
};

export const hasFlag = (rule: KfuncRule, flag: KfuncFlag): boolean => rule.flags.includes(flag);
