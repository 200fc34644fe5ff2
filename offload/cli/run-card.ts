/**
 * The card side of `offload run`: the offered load (`--link`, `--rate`), the card
 * engine for an offloadable program (JIT, image, simulated card with its timing
 * model), its map traffic over the control-message mailbox, and the figures and text
 * a card replay reports.
 */
import type { CardProfile } from '../../caps/profile.js';
import { CardMapClient } from '../../nic-sim/cmsg/client.js';
import { allocateCardMaps, freeCardMaps, readCardMaps, writeCardMaps } from '../../nic-sim/cmsg/host-maps.js';
import { CardMailbox } from '../../nic-sim/cmsg/mailbox.js';
import { CardEngine } from '../../nic-sim/replay/card-engine.js';
import { CardWorkers } from '../../nic-sim/replay/card-workers.js';
import { shardable } from '../../nic-sim/replay/shard.js';
import { helpersByAddress } from '../../nic-sim/firmware/routines.js';
import { encodeImage } from '../../nic-sim/image/index.js';
import type { PacketEngine } from '../../xdp/replay/replay.js';
import { cardFigures, type CardFigures, type Throughput } from '../../nic-sim/timing/capacity.js';
import type { CardTiming, OfferedLoad } from '../../nic-sim/timing/card-timing.js';
import type { HostFigures } from '../../nic-sim/timing/host-model.js';
import type { BpfMap } from '../../xdp/maps/bpf-map.js';
import { loadMaps } from '../../xdp/maps/map-json.js';
import type { Program } from '../../xdp/object/bpf-object.js';
import type { LoadedObject } from '../../xdp/object/load-object.js';
import { seededRandom } from '../../xdp/runtime/helpers/helper-env.js';
import { createMaps } from '../../xdp/maps/create-map.js';
import { Memory } from '../../xdp/runtime/memory.js';
import { jitProgram } from '../jit/jit-program.js';
import type { Translated } from '../jit/jit-program.js';
import { UsageError } from './io.js';
import type { ReportedReason } from '../rules/decide.js';

const LINK_UNITS: Readonly<Record<string, number>> = { '': 1e-6, k: 1e-3, m: 1, g: 1e3, t: 1e6 };

/** `--link 25G` (also 100g, 10000M, 2.5G, 1T): the link's rate in Mb/s. */
export function parseLink(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:b(?:it)?(?:\/s|ps)?)?$/i.exec(text.trim());
  const mbps = m ? Number(m[1]) * LINK_UNITS[m[2]!.toLowerCase()]! : NaN;
  if (!(mbps > 0 && Number.isFinite(mbps))) throw new UsageError(`--link expects a rate such as 25G, 100G or 10000M, got '${text}'`);
  return mbps;
}

/** The offered load from `--link` / `--rate`, the profile's link by default. */
export function offeredLoad(link: string | undefined, rate: string | undefined): OfferedLoad | undefined {
  if (link !== undefined && rate !== undefined) throw new UsageError('--link and --rate both set the offered load: give one');
  if (rate !== undefined) {
    const mpps = Number(rate);
    if (!(mpps > 0 && Number.isFinite(mpps))) throw new UsageError(`--rate expects packets per second in millions (e.g. 10 or 0.5), got '${rate}'`);
    return { kind: 'rate', mpps };
  }
  return link !== undefined ? { kind: 'link', mbps: parseLink(link) } : undefined;
}

export interface CardRun {
  /** The card as the replay's summary reads it (timing, meter, maps). */
  readonly engine: CardEngine;
  /** What the replay drives: the card itself, or worker threads sharing its packets. */
  readonly packets: PacketEngine;
  /** Worker threads in use (1: the card runs in this thread), and why not more when fewer than asked. */
  readonly workers: number;
  readonly workersNote?: string;
  readonly client: CardMapClient;
  readonly mailbox: CardMailbox;
  /** The maps at the end, read over the mailbox. */
  finalMaps(): BpfMap[];
  figures(): CardFigures;
}

export function startCardRun(obj: LoadedObject, program: Program, profile: CardProfile, translated: Translated | undefined, opts: {
  file: string; seed: number; load: OfferedLoad | undefined; mtu: number; perPacket: boolean; mapsIn?: { text: string; file: string }; workers: number;
}): CardRun {
  const jit = jitProgram(obj, program, profile, {}, translated);
  const engineOpts = { file: opts.file, random: seededRandom(opts.seed), perPacket: opts.perPacket, mtu: opts.mtu, ...(opts.load ? { load: opts.load } : {}) };
  let engine = new CardEngine(jit.image, profile, engineOpts);
  let packets: PacketEngine = engine;
  let workers = 1;
  let workersNote: string | undefined;
  if (opts.workers > 1) {
    const verdict = shardable(engine.card.image.insns, helpersByAddress(profile.helpers));
    if (verdict.ok) {
      const pool = new CardWorkers(encodeImage(jit.image, opts.file), jit.image, profile, { ...engineOpts, workers: opts.workers, seed: opts.seed, ...(verdict.addWidth ? { addWidth: verdict.addWidth } : {}) });
      engine = pool.main;
      packets = pool;
      workers = opts.workers;
    } else {
      workersNote = `--workers ${opts.workers}: ${program.name} runs on one thread, because ${verdict.why}`;
    }
  }
  // The card's maps as the driver sets them up: allocated over the mailbox before the program runs.
  const mailbox = new CardMailbox(engine.card.maps, profile.timing.mailboxNs, { multiEntry: profile.cmsgMultiEnt, preallocated: false });
  const client = new CardMapClient(mailbox, profile.cmsgMultiEnt);
  allocateCardMaps(client, engine.card.maps);
  if (opts.mapsIn) {
    const staging = createMaps(obj.maps, { memory: new Memory(), cpus: 1 });
    loadMaps(staging, opts.mapsIn.text, obj.btf, opts.mapsIn.file);
    writeCardMaps(client, engine.card.maps, staging);
  }
  const names = engine.card.maps.defs.map((d) => d.name);
  return {
    engine, packets, workers, ...(workersNote ? { workersNote } : {}), client, mailbox,
    finalMaps: () => {
      const maps = readCardMaps(client, engine.card.maps, obj.maps);
      freeCardMaps(client, engine.card.maps);
      return maps;
    },
    figures: () => cardFigures(engine.timing, names),
  };
}

const pct = (x: number) => `${(100 * x).toFixed(x < 0.1 ? 1 : 0)}%`;
const mpps = (x: number) => (Number.isFinite(x) ? `${x.toFixed(x < 10 ? 2 : 1)} Mpps` : 'unbounded');
export const usText = (ns: number) => (ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${ns.toFixed(0)} ns`);

function limits(t: Throughput): string {
  return `${mpps(t.mpps)} (bottleneck: ${t.bottleneck}; next: ${t.resources.slice(1, 3).map((r) => `${r.name} ${mpps(r.mpps)}`).join(', ')})`;
}

/** The card replay's figures as the text summary shows them. */
/** The card's lines of the summary; `t` gives the frames dropped before a thread or kept past the split. */
export function cardLines(f: CardFigures, profile: CardProfile, t: Pick<CardTiming, 'overflow' | 'beyondSplit' | 'oversize' | 'mtu'>): string[] {
  const { overflow, beyondSplit, oversize, mtu } = t;
  const u = f.engineUtilisation;
  const mean = u.length ? u.reduce((a, b) => a + b, 0) / u.length : 0;
  const busiest = u.reduce((b, x, i) => (x > (u[b] ?? -1) ? i : b), 0);
  return [
    `  sustainable: ${limits(f.sustained)}`,
    `  64-byte frames: ${limits(f.sustained64)}`,
    `  offered ${mpps(f.offeredMpps)}, taken ${mpps(f.achievedMpps)}${overflow ? `, ${overflow} dropped for a full ingress queue (ingress_overflow)` : ''}`,
    `  latency: p50 ${usText(f.latencyNs.p50)}, p99 ${usText(f.latencyNs.p99)}, max ${usText(f.latencyNs.max)}; cycles per packet: mean ${f.cyclesPerPacket.mean}, p99 ${f.cyclesPerPacket.p99} (at ${profile.timing.clockKHz / 1000} MHz)`,
    `  utilisation: engines mean ${pct(mean)} (busiest: engine ${busiest}, ${pct(u[busiest] ?? 0)}); ${Object.entries(f.memoryUtilisation).filter(([, x]) => x > 0).map(([m, x]) => `${m} ${pct(x)}`).join(', ') || 'no memory commands'}; link ${pct(f.linkUtilisation)}`,
    ...Object.entries(f.lockUtilisation).filter(([, x]) => x > 0).map(([m, x]) => `  lock of map ${m}: held ${pct(x)} of the time`),
    ...(oversize > 0 ? [`  ${oversize} frames carrying a packet longer than the ${mtu}-byte MTU: dropped by the MAC (oversize; --mtu sets the MTU)`] : []),
    ...(beyondSplit > 0 ? [`  ${beyondSplit} frames longer than the ${profile.packetSplitBytes}-byte packet split: the bytes past it stay outside packet memory, out of the program's reach (moved at the same DMA cost)`] : []),
  ];
}

export function hostLines(f: HostFigures): string[] {
  return [
    `  sustainable on one host core: ${limits(f.sustained)}; ${f.nsPerPacket} ns per packet measured on this machine`,
    `  latency (PCIe to the host and the run): p50 ${usText(f.latencyNs.p50)}, p99 ${usText(f.latencyNs.p99)}, max ${usText(f.latencyNs.max)}`,
  ];
}

/** Reasons shown on the line that says a program falls back to the host (all of them are in --json). */
const FALLBACK_SHOWN = 3;

/**
 * Why the card cannot run a program, in one line: the distinct reasons with their C
 * lines, the first few of them and how many more (`offload check` lists every one).
 */
export function fallbackText(reasons: readonly ReportedReason[], file: string): string {
  const distinct = [...new Set(reasons.map((r) => `${r.source ? `${r.source.file}:${r.source.line}: ` : r.insn !== undefined ? `insn ${r.insn}: ` : ''}${r.message.split('\n')[0]}`))];
  const more = distinct.length - FALLBACK_SHOWN;
  return `${distinct.slice(0, FALLBACK_SHOWN).join('; ')}${more > 0 ? `; and ${more} more (offload check ${file} lists them)` : ''}`;
}

/** The card and its load, as the summary's first line names them. */
export function cardText(run: CardRun, profile: CardProfile): string {
  const t = run.engine.timing;
  return `${profile.name} (${t.engineCount} engines × ${profile.timing.threadsPerCore} threads at ${profile.timing.clockKHz / 1000} MHz), offered ${t.load.kind === 'link' ? `at ${t.load.mbps / 1000} Gb/s` : `${t.load.mpps} Mpps`}`;
}

/** What `--json` adds for a card replay. */
export function cardJson(run: CardRun, f: CardFigures, profile: CardProfile): Record<string, unknown> {
  const t = run.engine.timing;
  return {
    throughput_mpps: f.sustained.mpps,
    throughput_mpps_64: f.sustained64.mpps,
    latency_ns: { p50: f.latencyNs.p50, p99: f.latencyNs.p99, max: f.latencyNs.max },
    cycles_per_packet: f.cyclesPerPacket,
    bottleneck: f.sustained.bottleneck,
    bottleneck_64: f.sustained64.bottleneck,
    card: {
      caps: profile.name, engines: t.engineCount, threads: profile.timing.threadsPerCore, clock_mhz: profile.timing.clockKHz / 1000,
      load: t.load, offered_mpps: f.offeredMpps, taken_mpps: f.achievedMpps, span_ns: f.spanNs,
      resources: f.sustained.resources, resources_64: f.sustained64.resources,
      utilisation: { engines: f.engineUtilisation, memories: f.memoryUtilisation, locks: f.lockUtilisation, link: f.linkUtilisation },
      latency_mean_ns: f.latencyNs.mean,
      control_messages: run.mailbox.messages, control_ns: run.mailbox.busyNs,
      workers: run.workers,
      mtu: t.mtu, oversize: t.oversize,
      beyond_split: t.beyondSplit,
    },
  };
}

/** What `--json` adds on the host fallback: the host cost model and why the card could not run it. */
export function hostJson(f: HostFigures, profile: CardProfile, reasons: readonly ReportedReason[]): Record<string, unknown> {
  return {
    throughput_mpps: f.sustained.mpps,
    latency_ns: { p50: f.latencyNs.p50, p99: f.latencyNs.p99, max: f.latencyNs.max },
    cycles_per_packet: null,
    ns_per_packet: f.nsPerPacket,
    bottleneck: f.sustained.bottleneck,
    fallback: {
      caps: profile.name,
      reasons: reasons.map((r) => ({ rule: r.rule, message: r.message, ...(r.insn !== undefined ? { insn: r.insn } : {}), ...(r.source ? { source: `${r.source.file}:${r.source.line}` } : {}) })),
    },
  };
}
