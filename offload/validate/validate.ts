/**
 * `offload validate`'s engine: every packet through the host engine, the card image
 * on the card executor and, optionally, the running kernel (BPF_PROG_TEST_RUN), each
 * with its own maps; after every packet the action, the packet's bytes and the maps
 * are compared (compare.ts). get_prandom_u32 draws from one seeded sequence on the
 * host and on the card, so a program that uses it still compares. The first mismatch
 * is explained: its packet shrunk to the smallest that still mismatches from fresh
 * state (packet-shrink.ts), and the eBPF instruction where the two runs part
 * (lockstep.ts) with the card instructions it became. Branch coverage of the eBPF
 * program is counted from the card's path (each conditional jump: taken, fallen
 * through).
 */
import { Card } from '../../nic-sim/card/card.js';
import { nfpActionName, nfpActionOf } from '../../nic-sim/card/actions.js';
import type { CardImage } from '../../nic-sim/image/index.js';
import type { KernelObject } from '../../xdp/kernel/kernel-oracle.js';
import { XDP_TEST_RUN_MIN_BYTES } from '../../xdp/kernel/kernel-oracle.js';
import type { BpfMap } from '../../xdp/maps/bpf-map.js';
import type { BpfObject } from '../../xdp/object/bpf-object.js';
import { kernelPacketEngine, mapsFromKernel } from '../../xdp/replay/kernel-engine.js';
import { seededRandom } from '../../xdp/runtime/helpers/helper-env.js';
import { XDP_MAX_DATA } from '../../xdp/runtime/xdp-buff.js';
import { LINKTYPE_ETHERNET } from '../../xdp/pcap/pcap-writer.js';
import { XdpMachine, type PacketResult } from '../../xdp/runtime/xdp-machine.js';
import type { ProgramRecords } from '../verifier/insn-records.js';
import { bytesDifference, mapsDifference, type Difference } from './compare.js';
import { codeStarts, lockstep, type Divergence, type LockstepInput } from './lockstep.js';
import { shrinkPacket } from './packet-shrink.js';

export interface ValidatePacket {
  readonly data: Uint8Array;
  /** Where it came from: `pcap` (record n of the capture) or `random` (n-th generated). */
  readonly source: 'pcap' | 'random';
  readonly n: number;
  /** A capture record's link type (1 = Ethernet, what XDP sees); random packets are Ethernet. */
  readonly linkType?: number;
}

/** The program, the image the card loads (the JIT's, or a deliberately wrong one in the validator's own tests), the records, the seed of get_prandom_u32. */
export type ValidateInput = LockstepInput;

export interface ValidateOptions {
  /** The running kernel, loaded with the program: a third engine. */
  readonly kernel?: KernelObject;
  /** Shrink the first mismatching packet (default true). */
  readonly shrink?: boolean;
  /** Tries the shrinker may spend (default 400). */
  readonly shrinkTries?: number;
}

export interface Mismatch {
  readonly packet: ValidatePacket;
  /** Which engines disagree: `card` (with the host), `kernel` (with the host). */
  readonly between: 'host/card' | 'host/kernel';
  readonly difference: Difference;
  /** The smallest packet that still mismatches from fresh state, when it does. */
  readonly shrunk?: { readonly data: Uint8Array; readonly tries: number; readonly difference: Difference };
  /** Why it was not shrunk. */
  readonly notShrunk?: string;
  readonly divergence?: Divergence;
  /** Card addresses of the blamed instruction's code. */
  readonly cardCode?: readonly number[];
}

export interface ValidateReport {
  readonly packets: number;
  readonly compared: number;
  /** Packets left out of a comparison, by why. */
  readonly skipped: Readonly<Record<string, number>>;
  readonly mismatches: number;
  readonly engines: readonly string[];
  readonly coverage: { readonly branches: number; readonly covered: number; readonly missed: readonly string[] };
  readonly first?: Mismatch;
}

const SKIP_LONG = `not compared: longer than the host's ${XDP_MAX_DATA}-byte linear frame (the host splits it into fragments as the kernel's test run does; the card holds it whole)`;
const SKIP_KERNEL_SHORT = `not run on the kernel (host and card compared): shorter than ${XDP_TEST_RUN_MIN_BYTES} bytes, which BPF_PROG_TEST_RUN refuses`;

/** Action, bytes, then maps: the first difference between two runs. */
function difference(
  hostAction: number, hostBytes: Uint8Array, other: { action: number; bytes: Uint8Array; error?: string }, maps: () => Difference | undefined,
): Difference | undefined {
  const ha = nfpActionName(nfpActionOf(hostAction));
  if (other.error) return { what: 'error', host: ha, card: other.error };
  const oa = nfpActionName(other.action);
  if (ha !== oa) return { what: 'action', host: ha, card: oa };
  return bytesDifference(hostBytes, other.bytes) ?? maps();
}

/** Branch coverage from the card's path: per conditional jump, was it taken, did it fall through? */
class Coverage {
  private readonly seen = new Map<number, number>();
  private readonly jumps: number[];
  /** Per conditional jump: the eBPF index whose code runs next when it falls through and when it jumps (Infinity: the outro). */
  private readonly next = new Map<number, { readonly fall: number; readonly taken: number }>();
  constructor(records: ProgramRecords, private readonly image: CardImage) {
    const jcond = records.records.filter((r) => r.kind.k === 'jcond' && r.visits > 0);
    this.jumps = jcond.map((r) => r.index);
    // Instructions the JIT left without code (joined, dead, fused) run as the next one with code.
    const withCode = [...new Set(codeStarts(image).values())].sort((a, b) => a - b);
    const codeAt = (i: number): number => withCode.find((x) => x >= i) ?? Infinity;
    for (const r of jcond) this.next.set(r.index, { fall: codeAt(r.index + 1), taken: codeAt(r.index + r.insn.off + 1) });
  }

  private record(jump: number, idx: number): void {
    const n = this.next.get(jump);
    if (!n) return;
    // When both ways lead to the same code, the card cannot tell them apart: both count.
    const way = n.fall === n.taken ? 3 : idx === n.fall ? 1 : idx === n.taken ? 2 : 0;
    this.seen.set(jump, (this.seen.get(jump) ?? 0) | way);
  }

  /** Card-side tracer: eBPF instruction starts in execution order. */
  tracer(): { onStep: (pc: number) => void; flush: () => void } {
    const starts = codeStarts(this.image);
    let prev: number | undefined;
    return {
      onStep: (pc) => {
        const idx = starts.get(pc);
        if (idx === undefined) return;
        if (prev !== undefined) this.record(prev, idx);
        prev = idx;
      },
      flush: () => {
        // The run ended after a jump: it went to the outro.
        if (prev !== undefined) this.record(prev, Infinity);
        prev = undefined;
      },
    };
  }

  summary(): ValidateReport['coverage'] {
    const missed: string[] = [];
    let covered = 0;
    for (const j of this.jumps) {
      const s = this.seen.get(j) ?? 0;
      covered += (s & 1 ? 1 : 0) + (s & 2 ? 1 : 0);
      if (!(s & 2)) missed.push(`${j} taken`);
      if (!(s & 1)) missed.push(`${j} not taken`);
    }
    return { branches: 2 * this.jumps.length, covered, missed };
  }
}

export function validate(input: ValidateInput, packets: Iterable<ValidatePacket>, opts: ValidateOptions = {}): ValidateReport {
  const coverage = new Coverage(input.records, input.image);
  const trace = coverage.tracer();
  const host = new XdpMachine(input.obj, input.program, { engine: 'compiled', random: seededRandom(input.seed) });
  const card = new Card(input.image, input.profile, {
    file: input.file, random: seededRandom(input.seed), onStep: (pc) => trace.onStep(pc - card.image.base),
  });
  const kernel = opts.kernel ? kernelPacketEngine(opts.kernel) : undefined;
  const skipped: Record<string, number> = {};
  const skip = (why: string) => void (skipped[why] = (skipped[why] ?? 0) + 1);
  let count = 0;
  let compared = 0;
  let mismatches = 0;
  let first: Mismatch | undefined;

  for (const pkt of packets) {
    count++;
    if (pkt.linkType !== undefined && pkt.linkType !== LINKTYPE_ETHERNET) {
      skip(`not compared: link type ${pkt.linkType} is not Ethernet (XDP sees Ethernet frames)`);
      continue;
    }
    if (pkt.data.length > XDP_MAX_DATA) {
      skip(SKIP_LONG);
      continue;
    }
    compared++;
    trace.flush();
    const h: PacketResult = host.run(pkt.data, count - 1);
    const hostBytes = h.bytes().slice();
    const c = card.runPacket(pkt.data);
    let found: { between: Mismatch['between']; d: Difference } | undefined;
    const cd = difference(h.action, hostBytes, c, () => mapsDifference(host.maps, card.maps));
    if (cd) found = { between: 'host/card', d: cd };
    if (kernel && opts.kernel) {
      if (pkt.data.length < XDP_TEST_RUN_MIN_BYTES) skip(SKIP_KERNEL_SHORT);
      else {
        const k = kernel.run(pkt.data, count - 1);
        const kd = difference(h.action, hostBytes, { action: nfpActionOf(k.action), bytes: k.bytes().slice() },
          () => kernelMapsDifference(input.obj, opts.kernel!, host.maps));
        if (kd && !found) found = { between: 'host/kernel', d: kd };
      }
    }
    if (!found) continue;
    mismatches++;
    if (!first) first = explain(input, pkt, found.between, found.d, opts);
  }
  trace.flush();
  return {
    packets: count, compared, skipped, mismatches,
    engines: ['host', 'card', ...(opts.kernel ? ['kernel'] : [])],
    coverage: coverage.summary(),
    ...(first ? { first } : {}),
  };
}

/** The kernel's maps against the host's, as host copies (xdp/replay/kernel-engine.ts). */
function kernelMapsDifference(obj: BpfObject, kernel: KernelObject, hostMaps: readonly BpfMap[]): Difference | undefined {
  const km = mapsFromKernel(obj as Parameters<typeof mapsFromKernel>[0], kernel);
  for (const m of km) {
    const h = hostMaps.find((x) => x.def.name === m.def.name);
    if (!h) continue;
    const hk = h.keys().map((k) => Buffer.from(k).toString('hex')).sort();
    const kk = m.keys().map((k) => Buffer.from(k).toString('hex')).sort();
    if (hk.join() !== kk.join()) return { what: `maps.${m.def.name} keys`, host: hk.join(' '), card: kk.join(' ') };
    for (const key of m.keys()) {
      const a = h.read(key)?.map((v) => Buffer.from(v).toString('hex')).join('/');
      const b = m.read(key)?.map((v) => Buffer.from(v).toString('hex')).join('/');
      if (a !== b) return { what: `maps.${m.def.name}[${Buffer.from(key).toString('hex')}]`, host: a ?? '(absent)', card: b ?? '(absent)' };
    }
  }
  return undefined;
}

/** Host and card from fresh state on one packet: their first difference. */
function freshDifference(input: ValidateInput, data: Uint8Array): Difference | undefined {
  const host = new XdpMachine(input.obj, input.program, { engine: 'interp', random: seededRandom(input.seed) });
  const card = new Card(input.image, input.profile, { file: input.file, random: seededRandom(input.seed) });
  const h = host.run(data, 0);
  const c = card.runPacket(data);
  return difference(h.action, h.bytes().slice(), c, () => mapsDifference(host.maps, card.maps));
}

function explain(input: ValidateInput, packet: ValidatePacket, between: Mismatch['between'], d: Difference, opts: ValidateOptions): Mismatch {
  const base = { packet, between, difference: d };
  if (between !== 'host/card') return { ...base, notShrunk: 'the host and the kernel disagree: the card is not involved' };
  let data = packet.data;
  let shrunk: Mismatch['shrunk'];
  let notShrunk: string | undefined;
  const fresh = freshDifference(input, packet.data);
  if (!fresh) notShrunk = 'from fresh state this packet agrees: the difference needs what earlier packets left in the maps';
  else if (opts.shrink === false) notShrunk = 'shrinking is off';
  else {
    const r = shrinkPacket(packet.data, (p) => freshDifference(input, p) !== undefined, { maxTries: opts.shrinkTries ?? 400 });
    data = r.packet;
    shrunk = { data: r.packet, tries: r.tries, difference: freshDifference(input, r.packet)! };
  }
  const divergence = lockstep(input, data, () => seededRandom(input.seed));
  const cardCode = divergence ? input.image.source.flatMap((idx, pc) => (idx === divergence.insn ? [pc] : [])) : undefined;
  return {
    ...base, ...(shrunk ? { shrunk } : {}), ...(notShrunk ? { notShrunk } : {}),
    ...(divergence ? { divergence } : {}), ...(cardCode ? { cardCode } : {}),
  };
}
