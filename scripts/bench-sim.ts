/**
 * `npm run bench:sim`: how fast the card simulator runs, on one core.
 *
 * 1. Simulated packets per wall-clock second for the drop (basic_actions:xdp_drop_all),
 *    counter (proto_count_array) and firewall (firewall_5tuple) fixtures: the card engine
 *    (RSS, admission, the image run under the timing meter, the engine model) over
 *    packets in memory, and the whole replay from a capture file (reading, outputs off).
 *    Each fixture runs in a child process of its own, warmed up on that program alone as
 *    a user's run is (one after another in one process, the engine's shared code grows
 *    polymorphic and the later fixtures read up to a third slower). In memory: the
 *    steady state after 0.5 s of warm-up (the first quarter second runs at about 40 % of
 *    it while V8 compiles), the median of eight 250 ms rounds; from a capture: one whole
 *    replay of a fresh card, warm-up included.
 *    Target: ≥ 5 million per second for the counter.
 *    Then, in the same process: the same engine without the packet path (each frame
 *    admitted, run and given to its engine from JavaScript, card-engine.ts `admit` and
 *    `run`, as before the path), and the reference loop (scripts/lib/sim-reference.ts:
 *    a strict subset of a packet's work written out directly, which an implementation of
 *    the model can hardly beat on this machine) in JavaScript and as WebAssembly
 *    (scripts/assembly/sim-reference.ts: the floor for a WebAssembly implementation).
 *    Beside it, the in-memory rate with the card's code run as generated JavaScript
 *    instead of WebAssembly (card.ts executor 'compiled', so no packet path either; in a
 *    process of its own).
 * 2. Resident memory replaying a generated 1 GB capture through the counter in a child
 *    process (its peak RSS from the kernel; target < 200 MB): memory must not grow with
 *    the capture. `--gigabytes G` changes the size.
 *
 * Build and run: npm run bench:sim [-- --gigabytes 1]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { resolveProfile } from '../caps/load-profile.js';
import { CardEngine } from '../nic-sim/replay/card-engine.js';
import { jitProgram } from '../offload/jit/jit-program.js';
import { findPrograms, loadObjectFile } from '../xdp/object/load-object.js';
import type { CaptureRecord } from '../xdp/pcap/capture-record.js';
import { udpFrame as frame, writeUdpCapture as writeCapture } from './lib/udp-frames.js';
import { replayCapture } from '../xdp/replay/replay.js';
import { referenceLoop, referenceLoopWasm } from './lib/sim-reference.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const { profile } = resolveProfile('nfp-4000');
const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};

function engineFor(file: string, name: string, executor: 'compiled' | 'wasm' = 'wasm', packetPath = true): CardEngine {
  const obj = loadObjectFile(join(ROOT, 'fixtures', 'obj', file));
  const program = findPrograms(obj).find((p) => p.name === name)!;
  return new CardEngine(jitProgram(obj, program, profile).image, profile, { file, executor, packetPath, load: { kind: 'link', mbps: profile.timing.linkMbps } });
}

const FIXTURES: [string, string, string][] = [
  ['drop', 'basic_actions.o', 'xdp_drop_all'],
  ['counter', 'proto_count_array.o', 'xdp_proto_count'],
  ['firewall', 'firewall_5tuple.o', 'xdp_firewall'],
];

if (process.argv[2] === '--child') {
  // The memory run: one replay of the file, then the peak resident set in MB on stdout.
  const [, , , file, obj, name] = process.argv;
  const s = replayCapture(engineFor(obj!, name!), { capture: file! });
  process.stdout.write(`${JSON.stringify({ packets: s.packets, maxRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
  process.exit(0);
}

/** The 4,096 packets every speed run replays: UDP frames of 64–664 bytes over 4,096 flows. */
function speedRecords(): CaptureRecord[] {
  return Array.from({ length: 4096 }, (_, k) => {
    const data = frame(k, 64 + (k % 4) * 200);
    return { index: k, offset: 0, tsSec: 0, tsNsec: 0, capLen: data.length, origLen: data.length, interfaceId: 0, linkType: 1, data } as CaptureRecord;
  });
}

/** Passes of `pass` over `count` packets for `ms` milliseconds: packets per second. */
function spin(ms: number, count: number, pass: () => void): number {
  let passes = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    pass();
    passes++;
  }
  return (passes * count) / ((performance.now() - t0) / 1000);
}

/** A pass of the whole card engine over the records (each packet a new one, by its number), as the replay offers them. */
function wholePass(eng: CardEngine, records: readonly CaptureRecord[]): () => void {
  let n = 0;
  return () => {
    for (const r of records) eng.offer(r, n++);
  };
}

if (process.argv[2] === '--js-speed') {
  // The card's code as generated JavaScript (card.ts executor 'compiled', the default before the WebAssembly one): the in-memory rate, as `--speed` measures it.
  const [, , , file, name] = process.argv;
  const records = speedRecords();
  const pass = wholePass(engineFor(file!, name!, 'compiled'), records);
  spin(500, records.length, pass);
  const rounds = Array.from({ length: 8 }, () => spin(250, records.length, pass)).sort((x, y) => x - y);
  process.stdout.write(`${JSON.stringify({ mem: rounds[4] })}\n`);
  process.exit(0);
}

if (process.argv[2] === '--speed') {
  // One fixture's speed, in a process of its own (what a user's run is: one program, warmed up on it alone).
  const [, , , capture, count, file, name] = process.argv;
  const records = speedRecords();
  const whole = wholePass(engineFor(file!, name!), records);
  // The same engine without the packet path: each frame admitted, run and given to its engine from JavaScript.
  const apart = wholePass(engineFor(file!, name!, 'wasm', false), records);
  const refArgs = [records.map((r) => r.data), profile.timing.cores, profile.timing.linkMbps, profile.timing.clockKHz * 1000] as const;
  const reference = referenceLoop(...refArgs);
  const referenceWasm = referenceLoopWasm(...refArgs);
  let checksum = 0;
  const ref = () => {
    checksum += reference();
  };
  const refWasm = () => {
    checksum -= referenceWasm();
  };
  // Half a second to let V8 compile the image's code and the engine (a long replay's steady state), then
  // eight rounds of each in turn, so that they meet the same machine; the median round of each.
  const passes: [() => void, number][] = [[whole, 250], [apart, 100], [ref, 100], [refWasm, 100]];
  passes.forEach(([pass], k) => spin(k === 0 ? 500 : 250, records.length, pass));
  const rounds = passes.map(() => [] as number[]);
  for (let r = 0; r < 8; r++) passes.forEach(([pass, ms], k) => rounds[k]!.push(spin(ms, records.length, pass)));
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
  const [mem, apartRate, refRate, refWasmRate] = rounds.map(median) as [number, number, number, number];
  const split = { apart: 1e9 / apartRate, reference: 1e9 / refRate, referenceWasm: 1e9 / refWasmRate, checksum };
  const t1 = performance.now();
  replayCapture(engineFor(file!, name!), { capture: capture! });
  const fromFile = Number(count) / ((performance.now() - t1) / 1000);
  process.stdout.write(`${JSON.stringify({ mem, fromFile, split })}\n`);
  process.exit(0);
}

/** A child process of this script with `args`; its one line of JSON. */
function child<T>(args: string[]): T {
  const c = spawnSync(process.execPath, [process.argv[1]!, ...args], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (c.status !== 0) throw new Error(`${args[0]} run failed: ${c.stderr}`);
  return JSON.parse(c.stdout) as T;
}

const dir = mkdtempSync(join(tmpdir(), 'bench-sim-'));
try {
  const small = join(dir, 'small.pcap');
  const smallCount = writeCapture(small, 40e6, 124);
  console.log(`card ${profile.name}, one core, each fixture in a process of its own; packets of 64–664 bytes over 4,096 UDP flows`);
  console.log('fixture    in memory (pkt/s)   from a capture (pkt/s)   card code as JavaScript (pkt/s)   target');
  type Split = { apart: number; reference: number; referenceWasm: number };
  const splits: [string, number, Split][] = [];
  for (const [label, file, name] of FIXTURES) {
    const { mem, fromFile, split } = child<{ mem: number; fromFile: number; split: Split }>(['--speed', small, String(smallCount), file, name]);
    const js = child<{ mem: number }>(['--js-speed', file, name]).mem;
    splits.push([label, mem, split]);
    console.log(`${label.padEnd(10)} ${Math.round(mem).toLocaleString('en').padStart(17)}   ${Math.round(fromFile).toLocaleString('en').padStart(22)}   ${Math.round(js).toLocaleString('en').padStart(31)}   ${label === 'counter' ? `≥ 5,000,000 (${(mem / 5e6).toFixed(3)} of it)` : ''}`);
  }
  const f1 = (x: number) => x.toFixed(1).padStart(7);
  console.log('\nns a packet in memory, each fixture\'s own process (the reference loop: scripts/lib/sim-reference.ts)');
  console.log('fixture      whole   without the packet path   reference loop   whole ÷ reference   reference as WebAssembly   whole ÷ it');
  for (const [label, mem, sp] of splits) {
    const whole = 1e9 / mem;
    console.log(`${label.padEnd(10)} ${f1(whole)}   ${f1(sp.apart).padStart(23)}   ${f1(sp.reference).padStart(14)}   ${(whole / sp.reference).toFixed(2).padStart(17)}   ${f1(sp.referenceWasm).padStart(24)}   ${(whole / sp.referenceWasm).toFixed(2).padStart(10)}`);
  }

  const gb = arg('--gigabytes', 1);
  const big = join(dir, 'big.pcap');
  const bigCount = writeCapture(big, gb * 1e9, 1500);
  const t = performance.now();
  const r = child<{ packets: number; maxRssMb: number }>(['--child', big, 'proto_count_array.o', 'xdp_proto_count']);
  console.log(`\nmemory: a ${(statSync(big).size / 1e9).toFixed(2)} GB capture (${bigCount.toLocaleString('en')} frames of 1,500 bytes) through the counter: ` +
    `peak resident ${r.maxRssMb.toFixed(0)} MB (target < 200 MB), ${r.packets.toLocaleString('en')} packets in ${((performance.now() - t) / 1000).toFixed(1)} s`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
