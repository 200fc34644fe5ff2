/**
 * The reference loop `npm run bench:sim` measures beside the card model: a strict subset
 * of the work the model does for a packet of the counter fixture, written out directly
 * instead of as a model — the packet's RSS queue (the model's own hash, nic-sim/rss),
 * its arrival cycle at the link rate, its copy into packet memory, the entry state
 * cleared (both GPR banks, the eBPF stack), forty register operations and one counter
 * added in map memory (what the counter's 39 card instructions do), its start and end on
 * its engine as if it were alone there, and its latency and cycles counted in histogram
 * bins. It leaves out everything else the model does: work segments and threads hiding
 * each other's latency, the meter's prices and hot spots, the firmware routine and its
 * checks, commands per memory, the ingress queue, the capacity sample, the result.
 *
 * So an implementation of the model, doing all this and more, can hardly run faster on
 * this machine than the loop does, and the model's time over the loop's says what its
 * extra work costs. The machine's
 * speed varies from one process to the next (up to 1.7× on the 2-core VM this was
 * written on), so the two are measured in the same process.
 */
import { rssHashOf } from '../../nic-sim/rss/flow-key.js';
import { RSS_VERIFICATION_KEY, Toeplitz } from '../../nic-sim/rss/toeplitz.js';
import { wireBits } from '../../nic-sim/timing/wire.js';
import { wasmModule } from '../../nic-sim/timing/wasm-module.js';

/** Room for a packet after the 128-byte headroom, as the card's packet memory has. */
const HEADROOM = 128;
const MAX_PACKET = 65535;

/** A pass over `frames` (each frame once, in order), returning a checksum so that nothing is optimised away. */
export function referenceLoop(frames: readonly Uint8Array[], engines: number, linkMbps: number, clockHz: number): () => number {
  const hasher = new Toeplitz(RSS_VERIFICATION_KEY);
  const ctm = new Uint8Array(HEADROOM + MAX_PACKET);
  const gprs = new Uint32Array(64);
  const a = gprs.subarray(0, 32);
  const b = gprs.subarray(32);
  const lm = new Uint8Array(4096);
  const emem = new DataView(new ArrayBuffer(64 + 256 * 8));
  const free = new Float64Array(engines);
  const latency = new Float64Array(4096);
  const cycles = new Float64Array(4096);
  const cyclesPerBit = clockHz / (linkMbps * 1e6);
  let clock = 0;
  return () => {
    let sum = 0;
    for (const p of frames) {
      const hash = rssHashOf(p, hasher);
      const engine = hash < 0 ? 0 : (hash & 127) % engines;
      clock += wireBits(p.length) * cyclesPerBit;
      ctm.set(p, HEADROOM);
      gprs.fill(0);
      lm.fill(0, 0, 512);
      a[22] = b[22] = HEADROOM;
      a[23] = b[23] = p.length;
      let c = 120;
      for (let k = 0; k < 16; k++) {
        const v = (a[22]! + b[23]! + k) >>> 0;
        a[2 + (k & 7)] = b[2 + (k & 7)] = v;
        c++;
      }
      const type = (ctm[HEADROOM + 12]! << 8) | ctm[HEADROOM + 13]!;
      if (type === 0x0800) {
        const proto = ctm[HEADROOM + 23]!;
        lm[508] = proto;
        const at = 64 + proto * 8;
        const lo = emem.getUint32(at, true) + 1;
        emem.setUint32(at, lo >>> 0, true);
        emem.setUint32(at + 4, (emem.getUint32(at + 4, true) + (lo > 0xffffffff ? 1 : 0)) >>> 0, true);
        c += 20;
      }
      for (let k = 0; k < 16; k++) {
        const v = (a[2 + (k & 7)]! ^ b[10 + (k & 7)]!) >>> 0;
        a[10 + (k & 7)] = b[10 + (k & 7)] = v;
        c++;
      }
      const ready = clock + 110;
      const start = free[engine]! > ready ? free[engine]! : ready;
      const end = start + c + 140;
      free[engine] = end;
      const ns = ((end - clock) * 1e9) / clockHz;
      latency[ns < 4095 ? Math.floor(ns) : 4095]!++;
      cycles[c < 4095 ? c : 4095]!++;
      sum += ns;
    }
    return sum;
  };
}

/**
 * The same loop as WebAssembly (scripts/assembly/sim-reference.ts): each frame written
 * into the module's packet memory, then its work done there. Its checksum is the same
 * sum of latencies as `referenceLoop`'s.
 */
export function referenceLoopWasm(frames: readonly Uint8Array[], engines: number, linkMbps: number, clockHz: number): () => number {
  const hasher = new Toeplitz(RSS_VERIFICATION_KEY);
  const x = new WebAssembly.Instance(wasmModule('sim-reference.wasm'), { env: { abort: () => { throw new Error('sim-reference.wasm stopped'); } } }).exports as {
    memory: WebAssembly.Memory; setup(engines: number, linkMbps: number, hz: number, inputBytes: number): number; packetArea(): number; packet(len: number): number;
  };
  const table = x.setup(engines, linkMbps, clockHz, hasher.table.length / 256);
  new Uint32Array(x.memory.buffer, table, hasher.table.length).set(hasher.table);
  const memory = new Uint8Array(x.memory.buffer);
  const at = x.packetArea();
  return () => {
    let sum = 0;
    for (const p of frames) {
      memory.set(p, at);
      sum += x.packet(p.length);
    }
    return sum;
  };
}
