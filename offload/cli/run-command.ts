/**
 * `offload run prog.o --pcap in.pcap [--caps nfp-4000]`: decide whether the card can
 * run the program; if it can, translate it and replay the capture through the
 * simulated card (run-card.ts); if not, say why and replay it on the host CPU with
 * the host cost model; a program the verifier refuses stops here (exit 2).
 * `--engine host|interp|kernel` replays on the host CPU (compiled engine or the
 * reference interpreter) or through the running kernel, with no card. Either way:
 * what each packet became, the maps at the end, and the rates.
 */
import { existsSync, readFileSync } from 'node:fs';
import cliProgress from 'cli-progress';
import { kernelAvailable, loadObjectIntoKernel } from '../../xdp/kernel/kernel-oracle.js';
import { possibleCpus } from '../../xdp/kernel/bpf-syscall.js';
import { verifyProgram } from '../verifier/verifier.js';
import { XdpError } from '../../xdp/errors.js';
import { readKernelFuncs, resolveKfuncs, VMLINUX_BTF } from '../../xdp/kernel/kernel-kfuncs.js';
import { isGplCompatible } from '../verifier/license.js';
import { checkOutputFile, makeOutputDir, OutputError, writeOutputFile } from '../../xdp/output/output-paths.js';
import type { BpfMap } from '../../xdp/maps/bpf-map.js';
import { formatJson } from '../../xdp/maps/json-text.js';
import { dumpMaps, loadMaps } from '../../xdp/maps/map-json.js';
import { selectProgram } from '../../xdp/object/load-object.js';
import { requireMapSizes } from '../../xdp/object/map-sizes.js';
import { helperOnHostMessage, isKernelOnlyHelper, kfuncOnHostMessage } from '../../xdp/runtime/kernel-only.js';
import { kindOf } from '../../xdp/isa/kind.js';
import { loadInput, noticeTypes, type LoadInputOptions } from './load-input.js';
import { kernelPacketEngine, mapsFromKernel } from '../../xdp/replay/kernel-engine.js';
import { replayCapture, type PacketEngine, type ReplaySummary } from '../../xdp/replay/replay.js';
import { DEFAULT_BUDGET, type EngineName } from '../../xdp/runtime/engine.js';
import { loadFibTable } from '../../xdp/runtime/helpers/fib-table.js';
import { XdpMachine, type XdpMachineOptions } from '../../xdp/runtime/xdp-machine.js';
import { HOST_SAMPLE, hostNsPerPacket } from './host-cost.js';
import { UsageError, type Io } from './io.js';
import { availableParallelism } from 'node:os';
import { fileLinkType } from '../../xdp/pcap/capture.js';
import { LINKTYPE_ETHERNET } from '../../xdp/pcap/pcap-writer.js';
import { resolveProfile } from '../../caps/load-profile.js';
import type { CardProfile } from '../../caps/profile.js';
import { decideOffload } from '../rules/decide.js';
import { HostModel, type HostFigures } from '../../nic-sim/timing/host-model.js';
import { DEFAULT_MTU, ETH_HLEN, MIN_MTU, overMtu } from '../../nic-sim/timing/wire.js';
import { CARD_MAX_PACKET } from '../../nic-sim/card/card.js';
import type { CardFigures } from '../../nic-sim/timing/capacity.js';
import { cardJson, cardLines, cardText, fallbackText, hostJson, hostLines, offeredLoad, startCardRun, type CardRun } from './run-card.js';
import { requireJitCard } from './jit-command.js';
import { renderReport } from '../../nic-sim/report/html.js';
import { cardReport, hostReport } from './run-report.js';

export interface RunOptions extends LoadInputOptions {
  pcap: string;
  /** Unset: the card (or the host CPU when the card cannot run the program). */
  engine?: string;
  caps?: string;
  link?: string;
  rate?: string;
  mtu?: string;
  report?: string;
  workers?: string;
  section?: string;
  out?: string;
  trace?: string;
  json?: boolean;
  mapsIn?: string;
  mapsOut?: string;
  cpus?: string;
  /** Show the maps at the end after the summary. */
  maps?: boolean;
  /** false with --no-verify. */
  verify?: boolean;
  seed?: string;
  routes?: string;
  budget?: string;
  tracePrintk?: string;
  progress: boolean;
}


const ENGINES: Readonly<Record<string, EngineName | 'kernel'>> = { host: 'compiled', compiled: 'compiled', interp: 'interp', kernel: 'kernel' };

function positiveInt(text: string, option: string, max = 2 ** 31): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`${option} expects an integer in 1..${max}, got '${text}'`);
  return n;
}

/** `--mtu`: the interface's MTU on the card path (default Linux's 1500 for Ethernet), within what the card's packet buffer holds. */
function mtuOf(text: string | undefined): number {
  if (text === undefined) return DEFAULT_MTU;
  const max = CARD_MAX_PACKET - ETH_HLEN;
  const n = Number(text);
  if (!Number.isInteger(n) || n < MIN_MTU || n > max) throw new UsageError(`--mtu expects bytes in ${MIN_MTU}..${max} (an Ethernet MTU the card's ${CARD_MAX_PACKET}-byte packet buffer holds), got '${text}'`);
  return n;
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new XdpError(`cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file });
  }
}

/**
 * Options only the host engines can honour: refused under --engine kernel, each with why, rather
 * than silently ignored.
 */
function refuseHostOnly(opts: RunOptions): void {
  const why: [string | undefined, string][] = [
    [opts.budget, '--budget: the kernel runs only programs its verifier proved to end, and has no per-packet budget'],
    [opts.routes, '--routes: the kernel\'s bpf_fib_lookup answers from this machine\'s own routing tables'],
    [opts.tracePrintk, '--trace-printk: the kernel writes bpf_trace_printk lines to its trace buffer (/sys/kernel/tracing/trace_pipe), not to the tool'],
    [opts.seed, '--seed: the kernel\'s bpf_get_prandom_u32 is not seeded from user space'],
  ];
  for (const [given, message] of why) if (given !== undefined) throw new UsageError(`${message}; it applies to --engine host and interp`);
}

/**
 * The kernel engine's CPUs: the kernel's per-CPU values have one slot per possible CPU, so --cpus
 * can only name that number there.
 */
function kernelCpus(text: string | undefined): number {
  const possible = possibleCpus();
  if (text !== undefined && positiveInt(text, '--cpus', 1024) !== possible) {
    throw new UsageError(`--cpus ${text} with --engine kernel: the kernel's per-CPU maps hold one value per possible CPU, and this machine has ${possible} (/sys/devices/system/cpu/possible)`);
  }
  return possible;
}

/** Options that choose or load the card: refused with --engine, which runs on the host without one. */
function refuseCardOnly(opts: RunOptions): void {
  for (const [given, name] of [[opts.caps, '--caps'], [opts.link, '--link'], [opts.rate, '--rate'], [opts.mtu, '--mtu'], [opts.report, '--report'], [opts.workers, '--workers']] as const) {
    if (given !== undefined) throw new UsageError(`${name} applies to the card; --engine ${opts.engine} runs on the host CPU without one`);
  }
}

/** Host-engine options the card does not take (it has no such helpers, budget or CPUs). */
function refuseOnCard(opts: RunOptions, profile: CardProfile): void {
  const why: [string | undefined, string][] = [
    [opts.cpus, '--cpus: the card spreads packets over its engines by RSS'],
    [opts.budget, '--budget: the card runs only programs its verifier proved to end'],
    [opts.routes, '--routes: bpf_fib_lookup does not run on the card'],
    [opts.tracePrintk, '--trace-printk: bpf_trace_printk does not run on the card'],
  ];
  for (const [given, message] of why) if (given !== undefined) throw new UsageError(`${message} (${profile.name}); it applies to --engine host and interp`);
}

export async function runCommand(file: string, opts: RunOptions, io: Io): Promise<number> {
  const onCard = opts.engine === undefined;
  const engineName = onCard ? 'compiled' : ENGINES[opts.engine!];
  if (!engineName) throw new UsageError(`--engine expects host, interp or kernel, got '${opts.engine}'`);
  if (!onCard) refuseCardOnly(opts);
  const load = onCard ? offeredLoad(opts.link, opts.rate) : undefined;
  const mtu = onCard ? mtuOf(opts.mtu) : undefined;
  const workers = positiveInt(opts.workers ?? '1', '--workers', 1024);
  const cores = availableParallelism();
  if (workers > cores) throw new UsageError(`--workers ${workers}: this machine runs ${cores} threads at once (os.availableParallelism()); give at most ${cores}`);
  const profile = onCard ? resolveProfile(opts.caps ?? 'nfp-4000').profile : undefined;
  const cpus = engineName === 'kernel' ? kernelCpus(opts.cpus) : positiveInt(opts.cpus ?? '1', '--cpus', 1024);
  const seed = Number(opts.seed ?? 0);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new UsageError(`--seed expects an integer in 0..4294967295, got '${opts.seed}'`);
  const budget = positiveInt(opts.budget ?? String(DEFAULT_BUDGET), '--budget');
  if (engineName === 'kernel') refuseHostOnly(opts);
  const obj = loadInput(file, opts);
  const program = selectProgram(obj, opts.section);
  requireMapSizes(obj);
  noticeTypes([program], io);
  // A kfunc the running kernel lacks stops libbpf's loader before any verifier sees the program.
  if (program.kfuncs?.length && existsSync(VMLINUX_BTF)) resolveKfuncs(program, readKernelFuncs(), file);
  // The kernel would refuse the program: so does run, unless asked to run it anyway (for debugging).
  const verdict = verifyProgram(program, obj.maps, { gplCompatible: isGplCompatible(obj.license) });
  if (!verdict.ok && onCard) {
    const e = verdict.error!;
    io.stderr.write(`offload: ${file}: the verifier refuses ${program.name}${e.insn >= 0 ? ` at insn ${e.insn}` : ''}: ${e.message.split('\n').join(' / ')} (the kernel would not load it, on the card or on the host; --no-verify runs it on the host engines only)\n`);
    return 2;
  }
  // On the card: the offload decision; a program the card cannot run falls back to the host CPU.
  let card: CardRun | undefined;
  let hostModel: HostModel | undefined;
  let fallback: string | undefined;
  let report: ReturnType<typeof decideOffload> | undefined;
  const hostSample: Uint8Array[] = [];
  let hostOptions: XdpMachineOptions | undefined;
  if (profile) {
    report = decideOffload(obj, program, profile, { privileged: true, gplCompatible: isGplCompatible(obj.license) });
    if (report.verdict === 'reject') {
      const r = report.reasons[0];
      io.stderr.write(`offload: ${file}: ${program.name} is refused: ${r ? `${r.insn !== undefined ? `insn ${r.insn}: ` : ''}${r.message.split('\n')[0]}` : 'by the verifier'}\n`);
      return 2;
    }
    if (report.verdict === 'host') {
      fallback = fallbackText(report.reasons, file);
      io.stderr.write(`offload: not offloadable on ${profile.name}: ${fallback}; running on the host CPU\n`);
      if (workers > 1) io.stderr.write(`offload: --workers ${workers}: the host CPU path runs on one thread\n`);
      hostModel = new HostModel(profile.timing);
    } else {
      requireJitCard(profile, 'run');
      refuseOnCard(opts, profile);
    }
  }
  if (!verdict.ok) {
    const e = verdict.error!;
    const refusal = `the verifier refuses ${program.name}${e.insn >= 0 ? ` at insn ${e.insn}` : ''}: ${e.message.split('\n').join(' / ')}`;
    if (opts.verify !== false) {
      io.stderr.write(`offload: ${file}: ${refusal} (the kernel would not load it; --no-verify runs it anyway)\n`);
      return 2;
    }
    io.stderr.write(`offload: warning: --no-verify: ${refusal}; running it anyway\n`);
  }
  // Every output is proved writable before the replay, so that none is lost after it (and no
  // directory is made for a program that is refused).
  // A whole capture of another link layer is a mistake to name, not a file of skipped records.
  const linkType = fileLinkType(opts.pcap);
  if (linkType !== undefined && linkType !== LINKTYPE_ETHERNET) {
    throw new XdpError(`link type ${linkType} is not Ethernet (LINKTYPE_ETHERNET, 1): an XDP program receives Ethernet frames`, { file: opts.pcap });
  }
  if (opts.out) makeOutputDir(opts.out);
  for (const f of [opts.trace, opts.mapsOut, opts.tracePrintk, opts.report]) if (f !== undefined) checkOutputFile(f);
  const kfunc = program.kfuncs?.[0];
  if (kfunc && engineName !== 'kernel') throw new UsageError(kfuncOnHostMessage(kfunc.name));
  const kernelOnly = program.insns.find((insn) => {
    const k = kindOf(insn);
    return k.k === 'call' && k.target === 'helper' && isKernelOnlyHelper(insn.imm);
  });
  if (kernelOnly && engineName !== 'kernel') throw new UsageError(helperOnHostMessage(kernelOnly.imm));

  let engine: PacketEngine;
  let finalMaps: () => BpfMap[];
  let traceLines: () => { packet: number; cpu: number; text: string }[] = () => [];
  let close = () => {};
  if (profile && !hostModel) {
    card = startCardRun(obj, program, profile, report?.translated, {
      file, seed, load, mtu: mtu!, perPacket: opts.trace !== undefined, workers,
      ...(opts.mapsIn ? { mapsIn: { text: readText(opts.mapsIn), file: opts.mapsIn } } : {}),
    });
    engine = card.packets;
    finalMaps = card.finalMaps;
    if (card.workersNote) io.stderr.write(`offload: ${card.workersNote}\n`);
  } else if (engineName === 'kernel') {
    const avail = kernelAvailable();
    if (!avail.ok) {
      io.stderr.write(`offload: --engine kernel needs the running kernel's bpf(): ${avail.reason}\n`);
      return 1;
    }
    const kernel = loadObjectIntoKernel(obj, { program: program.name, cpus });
    close = () => kernel.close();
    if (opts.mapsIn) {
      const staging = mapsFromKernel(obj, kernel);
      loadMaps(staging, readText(opts.mapsIn), obj.btf, opts.mapsIn);
      for (const m of staging) {
        for (const key of m.keys()) {
          const values = m.read(key)!;
          kernel.writeMap(m.def.name, key, values.length === 1 ? values[0]! : values, 0);
        }
      }
    }
    engine = kernelPacketEngine(kernel);
    finalMaps = () => mapsFromKernel(obj, kernel);
  } else {
    const fib = opts.routes ? loadFibTable(opts.routes) : undefined;
    const machine = new XdpMachine(obj, program, { engine: engineName, cpus, seed, budget, ...(fib ? { fib } : {}) });
    if (opts.mapsIn) loadMaps(machine.maps, readText(opts.mapsIn), obj.btf, opts.mapsIn);
    const model = hostModel;
    // On the fallback path every packet crosses PCIe to the host first; a sample is kept to time the engine.
    engine = model ? {
      // The packets still come in through the card's MAC, which drops those over the MTU.
      admit: (rec) => (overMtu(rec.data, rec.origLen, mtu!) ? 'oversize' : undefined),
      run: (p, i, meta) => {
        model.add(p.length);
        if (hostSample.length < HOST_SAMPLE) hostSample.push(p.slice());
        return machine.run(p, i, meta);
      },
    } : machine;
    hostOptions = { engine: engineName, cpus, seed, budget, ...(fib ? { fib } : {}) };
    finalMaps = () => machine.maps;
    traceLines = () => machine.trace;
  }

  const tty = (io.stderr as { isTTY?: boolean }).isTTY === true && opts.progress && !opts.json;
  // On a terminal: how far into the capture (bytes read of its size), the time left at the rate so far, packets and rate.
  const bar = tty ? new cliProgress.SingleBar({
    format: 'replay [{bar}] {percentage}% | ETA {eta_formatted} | {packets} packets, {rate} pkt/s',
    stream: io.stderr as NodeJS.WritableStream, etaBuffer: 50, fps: 5,
  }, cliProgress.Presets.shades_classic) : undefined;
  let summary: ReplaySummary;
  try {
    bar?.start(1, 0, { packets: 0, rate: 0 });
    const started = performance.now();
    summary = replayCapture(engine, {
      capture: opts.pcap, cpus,
      ...(opts.out ? { outDir: opts.out } : {}),
      ...(opts.trace ? { traceFile: opts.trace } : {}),
      ...(bar ? {
        progressEvery: 1000,
        onProgress: (n: number, position: number, size: number) => {
          bar.setTotal(Math.max(size, 1));
          bar.update(position, { packets: n, rate: Math.round(n / Math.max((performance.now() - started) / 1000, 1e-6)) });
        },
      } : {}),
    });
  } finally {
    bar?.stop();
  }
  if (summary.captureWarning) io.stderr.write(`offload: warning: ${opts.pcap}: ${summary.captureWarning}\n`);
  let maps: ReturnType<typeof dumpMaps>;
  try {
    maps = dumpMaps(finalMaps(), obj.btf);
  } finally {
    close();
  }
  const trace = traceLines();
  // Each output on its own: one that fails (the disk filled up since the check) loses no other.
  const failed: string[] = [...summary.outputFailures];
  const save = (path: string | undefined, text: () => string) => {
    if (path === undefined) return;
    try {
      writeOutputFile(path, text());
    } catch (e) {
      if (!(e instanceof OutputError)) throw e;
      failed.push(e.message);
    }
  };
  save(opts.mapsOut, () => `${formatJson(maps, 2)}\n`);

  save(opts.tracePrintk, () => trace.map((t) => `packet ${t.packet} cpu ${t.cpu}: ${t.text}\n`).join(''));
  const droppedTotal = Object.values(summary.dropped).reduce((a, b) => a + b, 0);
  const ran = summary.packets - summary.skipped - droppedTotal;
  const pps = summary.elapsedMs > 0 ? Math.round(ran / (summary.elapsedMs / 1000)) : 0;
  const cardFig: CardFigures | undefined = card?.figures();
  const hostFig: HostFigures | undefined = hostModel?.figures(hostNsPerPacket(obj, program, hostSample, hostOptions!));
  const title = `${program.name} (${file.split('/').pop()}) on ${opts.pcap.split('/').pop()}`;
  save(opts.report, () => renderReport(cardFig && card
    ? cardReport(card, cardFig, summary, profile!, program, obj.maps, title)
    : hostReport(hostModel!, hostFig!, summary, profile!, fallback ?? '', title)));
  const target = card ? 'nic' : 'host';
  /** What --json adds on the card and on the fallback path (the host cost model). */
  const model = cardFig && card ? cardJson(card, cardFig, profile!) : hostFig ? hostJson(hostFig, profile!, report!.reasons) : {};
  const where = card
    ? `on the card ${cardText(card, profile!)}`
    : `on the host CPU${hostModel ? ` (not offloadable on ${profile!.name})` : ''}, ${engineName === 'kernel' ? 'in the running kernel (BPF_PROG_TEST_RUN)' : `engine ${engineName}`}`;
  if (opts.json) {
    io.stdout.write(`${formatJson({
      file, program: program.name, section: program.section, capture: opts.pcap,
      target, engine: card ? 'card' : engineName === 'kernel' ? 'kernel' : engineName,
      packets: summary.packets,
      actions: summary.actions,
      dropped: summary.dropped,
      skipped: summary.skipped,
      skippedByReason: summary.skippedByReason,
      abortReasons: summary.abortReasons,
      redirects: summary.redirects,
      // The kernel engine reports the action only: where redirected packets went is not known there.
      redirectTargetsKnown: engineName !== 'kernel',
      ...(summary.captureError ? { captureError: summary.captureError } : {}),
      ...(summary.captureWarning ? { captureWarning: summary.captureWarning } : {}),
      elapsedMs: Math.round(summary.elapsedMs * 1000) / 1000,
      packetsPerSecond: pps,
      tracePrintk: trace.length,
      ...model,
      // The maps at the end, one entry per map (what --maps-out writes under its "maps").
      maps: maps.maps,
    }, 2)}\n`);
  } else {
    const lines = [
      `${file}: ${program.name} (section ${program.section}) ${where}`,
      `${opts.pcap}: ${summary.packets} packets = ${ran} run${profile ? ` + ${droppedTotal} dropped before the program` : ''} + ${summary.skipped} skipped`,
      ...Object.entries(summary.actions).filter(([a, n]) => n > 0 || !card || a !== 'XDP_REDIRECT').map(([a, n]) => `  ${a.padEnd(13)} ${n}`),
      ...Object.entries(summary.dropped).map(([r, n]) => `  ${r}: ${n}`),
      ...Object.entries(summary.skippedByReason).map(([r, n]) => `  skipped: ${r}: ${n}`),
      ...Object.entries(summary.abortReasons).map(([r, n]) => `  aborted: ${r}: ${n}`),
      ...Object.entries(summary.redirects).map(([r, n]) => `  redirected to ${r}: ${n}`),
      ...(engineName === 'kernel' && summary.actions.XDP_REDIRECT > 0 ? ['  redirect targets: not known (BPF_PROG_TEST_RUN reports the action only)'] : []),
      ...(summary.captureError ? [`  reading stopped: ${summary.captureError}`] : []),
      `  ${ran} packets in ${summary.elapsedMs.toFixed(1)} ms of this machine's time (${pps} packets/s${card ? ' simulated' : ''})`,
      ...(cardFig ? cardLines(cardFig, profile!, card!.engine.timing) : []),
      ...(hostFig ? hostLines(hostFig) : []),
      ...(trace.length > 0 && !opts.tracePrintk ? ['trace_printk:', ...trace.slice(0, 20).map((t) => `  packet ${t.packet} cpu ${t.cpu}: ${t.text}`), ...(trace.length > 20 ? [`  ... ${trace.length - 20} more (save them with --trace-printk FILE)`] : [])] : []),
      ...(opts.maps ? ['maps at the end:', formatJson(maps, 2)] : []),
    ];
    io.stdout.write(`${lines.join('\n')}\n`);
  }
  for (const f of failed) io.stderr.write(`offload: ${f}\n`);
  return summary.captureError || failed.length > 0 ? 1 : 0;
}
