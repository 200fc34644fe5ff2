/**
 * The running kernel as a packet engine for the replay: each packet goes
 * through BPF_PROG_TEST_RUN of the object loaded by the kernel oracle. The
 * kernel says which action the program returned and what the packet became,
 * not where a redirect would have gone, so redirected packets carry no target.
 */
import type { KernelObject } from '../kernel/kernel-oracle.js';
import type { BpfMap, MapEnv } from '../maps/bpf-map.js';
import { createMap } from '../maps/create-map.js';
import { MAP_TYPE } from '../maps/map-types.js';
import type { BpfObject } from '../object/bpf-object.js';
import { Memory } from '../runtime/memory.js';
import { XDP_ACTION_NAMES, XdpAction } from '../runtime/helpers/xdp-helpers.js';
import type { PacketMeta, PacketResult } from '../runtime/xdp-machine.js';
import type { PacketEngine } from './replay.js';

export function kernelPacketEngine(kernel: KernelObject): PacketEngine {
  return {
    run(packet: Uint8Array, _index: number, meta?: PacketMeta): PacketResult {
      const r = kernel.run(packet, { ingressIfindex: meta?.ingressIfindex ?? 1, rxQueueIndex: meta?.rxQueueIndex ?? 0 });
      const retval = r.retval >>> 0;
      const data = r.data.subarray(r.metaLength);
      const base = { length: data.length, bytes: () => data, retval };
      if (retval > XdpAction.REDIRECT) {
        return { ...base, action: XdpAction.ABORTED, actionName: 'XDP_ABORTED', error: `invalid XDP action ${retval}` };
      }
      return { ...base, action: retval, actionName: XDP_ACTION_NAMES[retval]! };
    },
  };
}

/** Map types whose user-space values are kernel object ids or sockets, meaningless on the host. */
const KERNEL_ONLY_VALUES: ReadonlySet<number> = new Set([
  MAP_TYPE.PROG_ARRAY, MAP_TYPE.ARRAY_OF_MAPS, MAP_TYPE.HASH_OF_MAPS, MAP_TYPE.DEVMAP, MAP_TYPE.XSKMAP,
  MAP_TYPE.RINGBUF, MAP_TYPE.PERF_EVENT_ARRAY,
]);

/**
 * Host copies of the kernel's maps after a run, so that both targets are dumped and compared
 * the same way. Maps whose values are kernel ids (PROG_ARRAY, map-in-map, DEVMAP, XSKMAP) or
 * event buffers keep their initial contents.
 */
export function mapsFromKernel(obj: BpfObject, kernel: KernelObject): BpfMap[] {
  const maps: BpfMap[] = [];
  const env: MapEnv = { memory: new Memory(), cpus: kernel.cpus, maps };
  for (const def of obj.maps) maps.push(createMap(def, env));
  for (const m of maps) {
    if (KERNEL_ONLY_VALUES.has(m.def.type)) continue;
    for (const e of kernel.readMap(m.def.name)) m.write(e.key, e.values, 0);
  }
  return maps;
}
