/**
 * The host cost model's one measured figure: the compiling engine's time per packet on
 * this machine, in its steady state. A replay's own wall time would charge the engine's
 * warm-up (compiling the program, the JIT's first passes) to a short capture's few
 * packets; so a separate machine, with its own maps, runs a sample of the capture's
 * packets once to warm up and then again for at least 50 ms.
 */
import type { BpfObject, Program } from '../../xdp/object/bpf-object.js';
import { XdpMachine, type XdpMachineOptions } from '../../xdp/runtime/xdp-machine.js';

/** Packets of the capture kept for the measurement (fixed memory whatever the capture's size). */
export const HOST_SAMPLE = 1024;
const MIN_MS = 50;

export function hostNsPerPacket(obj: BpfObject, program: Program, sample: readonly Uint8Array[], options: XdpMachineOptions): number {
  if (sample.length === 0) return 0;
  const m = new XdpMachine(obj, program, options);
  for (const p of sample) m.run(p, 0);
  let n = 0;
  const t0 = performance.now();
  let elapsed = 0;
  while (elapsed < MIN_MS) {
    for (const p of sample) m.run(p, n++);
    elapsed = performance.now() - t0;
  }
  return (elapsed * 1e6) / n;
}
