/**
 * What only the running kernel can run, and why a host engine refuses it:
 * kernel functions (BPF_PSEUDO_KFUNC_CALL, resolved by BTF id in the running
 * kernel), and the helpers whose answer comes from kernel state the host does
 * not have — the SYN-cookie helpers hash with the kernel's secret
 * (net/core/filter.c: bpf_tcp_raw_gen_syncookie_ipv4 → __cookie_v4_init_sequence).
 * Which helpers those are, and what they need, is the registry's `kernelOnly`
 * (xdp/helpers/helper-registry.ts).
 */
import { helperSpec } from '../helpers/helper-registry.js';

export const kfuncOnHostMessage = (name: string): string =>
  `kfunc ${name} cannot run on the host engine: kernel functions run only in the kernel (--engine kernel)`;

/** Whether helper `id` needs the running kernel (the registry's `kernelOnly`). */
export const isKernelOnlyHelper = (id: number): boolean => helperSpec(id)?.kernelOnly !== undefined;

export const helperOnHostMessage = (id: number): string =>
  `helper ${helperSpec(id)?.name}#${id} cannot run on the host engine: it needs ${helperSpec(id)?.kernelOnly} (--engine kernel)`;
