/**
 * `npm run bench:engine`: packets per second of four fixtures — a drop, the
 * protocol counter, the 5-tuple firewall, a multi-buffer frame read with
 * bpf_xdp_load_bytes — through the compiling engine, the
 * interpreter and the running kernel (BPF_PROG_TEST_RUN with `repeat`), all in
 * one run, with the ratios; then a replay of a generated ~1 GB capture through
 * `offload run`'s replay loop, watching resident memory.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { kernelAvailable, loadObjectIntoKernel } from '../xdp/kernel/kernel-oracle.js';
import { loadObjectFile, selectProgram } from '../xdp/object/load-object.js';
import { openPcapFile } from '../xdp/pcap/pcap-writer.js';
import { replayCapture } from '../xdp/replay/replay.js';
import type { EngineName } from '../xdp/runtime/engine.js';
import { XdpMachine } from '../xdp/runtime/xdp-machine.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const fixture = (name: string) => loadObjectFile(join(ROOT, 'fixtures', 'obj', `${name}.o`));

/** A 64-byte IPv4/UDP frame (the counter counts it; the firewall looks it up and passes it). */
function udpFrame(): Uint8Array {
  const p = new Uint8Array(64);
  p.set([0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00], 0);
  p.set([0x45, 0, 0, 50, 0, 1, 0, 0, 64, 17, 0, 0, 10, 1, 0, 1, 10, 2, 0, 1], 14);
  p.set([0x30, 0x39, 0x00, 0x35, 0, 30, 0, 0], 34);
  return p;
}

/** Best of `rounds` timings of `n` runs, in ns per packet. */
function time(n: number, rounds: number, fn: (i: number) => void): number {
  for (let i = 0; i < Math.min(n, 200_000); i++) fn(i);
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn(i);
    best = Math.min(best, Number(process.hrtime.bigint() - t) / n);
  }
  return best;
}

const mpps = (ns: number) => (1000 / ns).toFixed(2);
/**
 * `frameBytes`: the UDP frame padded to this length. 4900 bytes is a multi-buffer frame (3520 in
 * the linear part, one fragment): rw_xdp_load_bytes reads its headers with bpf_xdp_load_bytes and
 * flips its last bytes across the fragment (it trims only frames over 5000 bytes, so the kernel's
 * repeated runs of one buffer all see the same frame).
 */
const CASES = [
  { label: 'drop', object: 'basic_actions', program: 'xdp_drop_all', frameBytes: 64 },
  { label: 'counter', object: 'proto_count_array', program: undefined, frameBytes: 64 },
  { label: 'firewall', object: 'firewall_5tuple', program: undefined, frameBytes: 64 },
  { label: 'frags', object: 'rw_xdp_load_bytes', program: 'xdp_frags_count', frameBytes: 4900 },
] as const;

function engines(): void {
  const kernel = kernelAvailable();
  if (!kernel.ok) console.log(`kernel: not measured (${kernel.reason})`);
  console.log('program    engine     ns/packet      Mpps   vs kernel');
  for (const c of CASES) {
    const frame = new Uint8Array(c.frameBytes);
    frame.set(udpFrame());
    const obj = fixture(c.object);
    const program = selectProgram(obj, c.program);
    let kernelNs: number | undefined;
    if (kernel.ok) {
      const k = loadObjectIntoKernel(obj, { program: program.name });
      try {
        kernelNs = Math.min(...[0, 1, 2].map(() => k.run(frame, undefined, 20_000_000).durationNs));
      } finally {
        k.close();
      }
    }
    const rows: [string, number][] = [];
    for (const engine of ['compiled', 'interp'] as EngineName[]) {
      const m = new XdpMachine(obj, program, { engine });
      const n = engine === 'compiled' ? 3_000_000 : 500_000;
      rows.push([engine, time(n, 3, (i) => m.run(frame, i))]);
    }
    if (kernelNs !== undefined) rows.push(['kernel', kernelNs]);
    for (const [engine, ns] of rows) {
      const ratio = kernelNs !== undefined ? `${(ns / kernelNs).toFixed(2)}x` : '-';
      console.log(`${c.label.padEnd(10)} ${engine.padEnd(9)} ${ns.toFixed(1).padStart(10)} ${mpps(ns).padStart(9)} ${ratio.padStart(10)}`);
    }
  }
}

/** Replay a generated capture of about `bytes` bytes and report the peak resident memory. */
function bigReplay(bytes: number): void {
  const dir = mkdtempSync(join(tmpdir(), 'bench-engine-'));
  const file = join(dir, 'big.pcap');
  try {
    const frame = new Uint8Array(1000);
    frame.set(udpFrame());
    frame[16] = (986 >> 8) & 0xff;
    frame[17] = 986 & 0xff;
    const w = openPcapFile(file);
    const count = Math.ceil(bytes / (frame.length + 16));
    for (let i = 0; i < count; i++) {
      frame[20] = i & 0xff;
      w.write(frame, 1_700_000_000 + Math.floor(i / 1000), (i % 1000) * 1000);
    }
    w.close();
    const size = statSync(file).size;
    const obj = fixture('proto_count_array');
    const machine = new XdpMachine(obj, selectProgram(obj), { engine: 'compiled' });
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const summary = replayCapture(machine, {
      capture: file, progressEvery: 20_000,
      onProgress: () => (peak = Math.max(peak, process.memoryUsage().rss)),
    });
    peak = Math.max(peak, process.memoryUsage().rss);
    const secs = summary.elapsedMs / 1000;
    console.log(`replay of a ${(size / 1e9).toFixed(2)} GB capture (${summary.packets} packets of 1000 bytes): ` +
      `${secs.toFixed(2)} s, ${Math.round(summary.packets / secs)} packets/s, ${(size / 1e6 / secs).toFixed(0)} MB/s; ` +
      `resident memory ${(before / 1048576).toFixed(0)} MB before, peak ${(peak / 1048576).toFixed(0)} MB (target: under 200 MB)`);
    const counted = Object.values(summary.actions).reduce((a, b) => a + b, 0) + summary.skipped;
    if (counted !== summary.packets) throw new Error(`accounting broken: ${counted} != ${summary.packets}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

engines();
bigReplay(Number(process.env.BENCH_REPLAY_BYTES ?? 1e9));
