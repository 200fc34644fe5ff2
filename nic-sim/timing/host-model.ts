/**
 * What running on the host CPU costs when the card cannot run the program: every
 * packet crosses PCIe to the host (the profile's PCIe latency plus its bits at the
 * link's rate) and then runs on one host core for the time the compiling engine
 * measured per packet on this machine, in its steady state (offload/cli/host-cost.ts).
 * Throughput is the lesser of that core's rate and PCIe's; latency is a packet's PCIe
 * crossing plus the measured mean run time.
 */
import type { TimingModel } from '../../caps/profile.js';
import type { Resource, Throughput } from './capacity.js';
import { Histogram } from './histogram.js';

export interface HostFigures {
  readonly sustained: Throughput;
  readonly nsPerPacket: number;
  readonly latencyNs: { readonly p50: number; readonly p99: number; readonly max: number; readonly mean: number };
}

const round = (x: number, digits = 3): number => (Number.isFinite(x) ? Number(x.toFixed(digits)) : x);

export class HostModel {
  readonly pcieNs = new Histogram();
  bits = 0;
  packets = 0;

  constructor(private readonly timing: TimingModel) {}

  /** A packet of `bytes` crossed to the host. */
  add(bytes: number): void {
    const p = this.timing.pcie;
    this.pcieNs.add(p.latencyNs + (8 * bytes * 1000) / p.mbps);
    this.bits += 8 * bytes;
    this.packets++;
  }

  figures(nsPerPacket: number): HostFigures {
    const cpu = nsPerPacket > 0 ? 1e3 / nsPerPacket : Infinity;
    const pcie = this.bits > 0 ? (this.timing.pcie.mbps * this.packets) / this.bits : Infinity;
    const listed: Resource[] = [{ kind: 'host-cpu', name: 'host cpu', mpps: round(cpu) }, { kind: 'pcie', name: 'pcie', mpps: round(pcie) }];
    const resources = listed.sort((a, b) => a.mpps - b.mpps);
    const at = (ns: number) => round(ns + nsPerPacket, 1);
    const h = this.pcieNs;
    return {
      sustained: { mpps: resources[0]!.mpps, bottleneck: resources[0]!.name, resources },
      nsPerPacket: round(nsPerPacket, 1),
      latencyNs: h.count === 0 ? { p50: 0, p99: 0, max: 0, mean: 0 } : { p50: at(h.percentile(50)), p99: at(h.percentile(99)), max: at(h.max), mean: at(h.mean) },
    };
  }
}
