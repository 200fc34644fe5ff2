/**
 * What only the running kernel can run, and why a host engine refuses it:
 * kernel functions (BPF_PSEUDO_KFUNC_CALL, resolved by BTF id in the running
 * kernel), and the helpers whose answer comes from kernel state the host does
 * not have — the SYN-cookie helpers hash with the kernel's secret
 * (net/core/filter.c: bpf_tcp_raw_gen_syncookie_ipv4 → __cookie_v4_init_sequence).
 */
import { helperName } from '../helpers/helper-names.js';

export const kfuncOnHostMessage = (name: string): string =>
  `kfunc ${name} cannot run on the host engine: kernel functions run only in the kernel (--engine kernel)`;

/** Helper id → what of the kernel's it needs. */
export const KERNEL_ONLY_HELPERS: Readonly<Record<number, string>> = {
  204: 'the kernel\'s SYN-cookie secret',
  205: 'the kernel\'s SYN-cookie secret',
  206: 'the kernel\'s SYN-cookie secret',
  207: 'the kernel\'s SYN-cookie secret',
};

export const helperOnHostMessage = (id: number): string =>
  `helper ${helperName(id)}#${id} cannot run on the host engine: it needs ${KERNEL_ONLY_HELPERS[id]} (--engine kernel)`;
