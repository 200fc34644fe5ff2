/**
 * `offload run prog.o --pcap in.pcap --engine host|interp|kernel`: replay a
 * capture through the program on the host CPU (compiled engine or the
 * reference interpreter) or through the running kernel, and report what each
 * packet became, the maps at the end, and the rate.
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
import { XdpMachine } from '../../xdp/runtime/xdp-machine.js';
import { UsageError, type Io } from './io.js';

export interface RunOptions extends LoadInputOptions {
  pcap: string;
  engine: string;
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

export async function runCommand(file: string, opts: RunOptions, io: Io): Promise<number> {
  const engineName = ENGINES[opts.engine];
  if (!engineName) throw new UsageError(`--engine expects host, interp or kernel, got '${opts.engine}'`);
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
  if (opts.out) makeOutputDir(opts.out);
  for (const f of [opts.trace, opts.mapsOut, opts.tracePrintk]) if (f !== undefined) checkOutputFile(f);
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
  if (engineName === 'kernel') {
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
    engine = machine;
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
  const ran = summary.packets - summary.skipped;
  const pps = summary.elapsedMs > 0 ? Math.round(ran / (summary.elapsedMs / 1000)) : 0;
  if (opts.json) {
    io.stdout.write(`${formatJson({
      file, program: program.name, section: program.section, capture: opts.pcap,
      target: 'host', engine: engineName === 'kernel' ? 'kernel' : engineName,
      packets: summary.packets,
      actions: summary.actions,
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
      // The maps at the end, one entry per map (what --maps-out writes under its "maps").
      maps: maps.maps,
    }, 2)}\n`);
  } else {
    const lines = [
      `${file}: ${program.name} (section ${program.section}) on the host CPU, ${engineName === 'kernel' ? 'in the running kernel (BPF_PROG_TEST_RUN)' : `engine ${engineName}`}`,
      `${opts.pcap}: ${summary.packets} packets = ${ran} run + ${summary.skipped} skipped`,
      ...Object.entries(summary.actions).map(([a, n]) => `  ${a.padEnd(13)} ${n}`),
      ...Object.entries(summary.skippedByReason).map(([r, n]) => `  skipped: ${r}: ${n}`),
      ...Object.entries(summary.abortReasons).map(([r, n]) => `  aborted: ${r}: ${n}`),
      ...Object.entries(summary.redirects).map(([r, n]) => `  redirected to ${r}: ${n}`),
      ...(engineName === 'kernel' && summary.actions.XDP_REDIRECT > 0 ? ['  redirect targets: not known (BPF_PROG_TEST_RUN reports the action only)'] : []),
      ...(summary.captureError ? [`  reading stopped: ${summary.captureError}`] : []),
      `  ${ran} packets in ${summary.elapsedMs.toFixed(1)} ms (${pps} packets/s)`,
      ...(trace.length > 0 && !opts.tracePrintk ? ['trace_printk:', ...trace.slice(0, 20).map((t) => `  packet ${t.packet} cpu ${t.cpu}: ${t.text}`), ...(trace.length > 20 ? [`  ... ${trace.length - 20} more (save them with --trace-printk FILE)`] : [])] : []),
      ...(opts.maps ? ['maps at the end:', formatJson(maps, 2)] : []),
    ];
    io.stdout.write(`${lines.join('\n')}\n`);
  }
  for (const f of failed) io.stderr.write(`offload: ${f}\n`);
  return summary.captureError || failed.length > 0 ? 1 : 0;
}
