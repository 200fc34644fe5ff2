/**
 * The running kernel as a packet engine for the replay: each packet goes
 * through BPF_PROG_TEST_RUN of the object loaded by the kernel oracle. The
 * kernel says which action the program returned and what the packet became,
 * not where a redirect would have gone, so redirected packets carry no target.
 */
import type { KernelObject } from '../kernel/kernel-oracle.js';
import { XDP_ACTION_NAMES, XdpAction } from '../runtime/helpers/xdp-helpers.js';
import type { PacketMeta, PacketResult } from '../runtime/xdp-machine.js';
import type { PacketEngine } from './replay.js';

export function kernelPacketEngine(kernel: KernelObject): PacketEngine {
  return {
    run(packet: Uint8Array, _index: number, meta: PacketMeta): PacketResult {
      const r = kernel.run(packet, { ingressIfindex: meta.ingressIfindex ?? 1, rxQueueIndex: meta.rxQueueIndex ?? 0 });
      const retval = r.retval >>> 0;
      const data = r.data;
      const base = { length: data.length, bytes: () => data, retval };
      if (retval > XdpAction.REDIRECT) {
        return { ...base, action: XdpAction.ABORTED, actionName: 'XDP_ABORTED', error: `invalid XDP action ${retval}` };
      }
      return { ...base, action: retval, actionName: XDP_ACTION_NAMES[retval]! };
    },
  };
}
