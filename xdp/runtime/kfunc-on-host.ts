/**
 * Why a host engine refuses a kfunc call: kernel functions (BPF_PSEUDO_KFUNC_CALL,
 * resolved by BTF id in the running kernel) have no host implementation.
 */
export const kfuncOnHostMessage = (name: string): string =>
  `kfunc ${name} cannot run on the host engine: kernel functions run only in the kernel (--engine kernel)`;
