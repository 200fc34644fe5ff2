/**
 * How fast the capture readers are: writes a capture of 1,000,000 64-byte
 * packets (80 MB) to a temporary file, reads it end to end with
 *
 *   - the fast reader (xdp/pcap/pcap-reader.ts): synchronous iterator,
 *     batches(), and the per-record async iterator;
 *   - pcap-parser on its own (counting its 'packet' events), and through the
 *     oracle wrapper the tests use (xdp/pcap/pcap-parser-reader.ts);
 *   - `tcpdump -r FILE -w /dev/null`, when tcpdump is installed (its time
 *     includes starting the process);
 *
 * and prints nanoseconds per packet for each (median of the timed runs, after
 * one warm-up run) and the ratios to tcpdump and to the synchronous reader.
 * Each Node reader touches every packet's first byte.
 *
 * Build and run: npx tsc -p tsconfig.json && node dist/scripts/bench-pcap.js [--packets N] [--runs N]
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventEmitter } from 'node:events';
import { openPcap } from '../xdp/pcap/pcap-reader.js';
import { readWithPcapParser } from '../xdp/pcap/pcap-parser-reader.js';
import { encodeFileHeader, pcapFormat } from '../xdp/pcap/pcap-writer.js';

interface Args {
  packets: number;
  runs: number;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { packets: 1_000_000, runs: 3 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = Number(argv[i + 1]);
    if (a === '--packets' && Number.isInteger(v) && v > 0) {
      args.packets = v;
      i++;
    } else if (a === '--runs' && Number.isInteger(v) && v > 0) {
      args.runs = v;
      i++;
    } else {
      throw new Error(`usage: bench-pcap [--packets N] [--runs N] (bad argument ${a})`);
    }
  }
  return args;
}

const PACKET_BYTES = 64;

/** Writes `packets` 64-byte Ethernet-looking packets, microsecond timestamps, in 1 MiB blocks. */
function writeCapture(path: string, packets: number): number {
  const recordBytes = 16 + PACKET_BYTES;
  const perBlock = 8192;
  const block = new Uint8Array(perBlock * recordBytes);
  const view = new DataView(block.buffer);
  const fd = openSync(path, 'w');
  let total = 0;
  try {
    const header = encodeFileHeader(pcapFormat({}));
    writeSync(fd, header);
    total += header.length;
    for (let done = 0; done < packets; ) {
      const n = Math.min(perBlock, packets - done);
      for (let i = 0; i < n; i++) {
        const k = done + i;
        const o = i * recordBytes;
        view.setUint32(o, 1_700_000_000 + Math.floor(k / 1_000_000), true);
        view.setUint32(o + 4, k % 1_000_000, true);
        view.setUint32(o + 8, PACKET_BYTES, true);
        view.setUint32(o + 12, PACKET_BYTES, true);
        block.fill(0xff, o + 16, o + 22); // broadcast destination
        block[o + 28] = 0x08; // EtherType IPv4
        block[o + 29] = 0x00;
        block[o + 30] = k & 0xff;
      }
      total += writeSync(fd, block, 0, n * recordBytes);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  return total;
}

interface PcapParserModule {
  parse(input: string): EventEmitter;
}

/** One timed read; returns [packets, nanoseconds]. */
type Reader = (path: string) => Promise<number> | number;

const readers: Record<string, Reader> = {
  'fast reader, for..of (sync)': (path) => {
    let n = 0;
    let sum = 0;
    for (const r of openPcap(path)) {
      sum += r.data[0]!;
      n++;
    }
    return sum >= 0 ? n : -1;
  },
  'fast reader, batches()': async (path) => {
    let n = 0;
    let sum = 0;
    for await (const batch of openPcap(path).batches()) {
      for (const r of batch) sum += r.data[0]!;
      n += batch.length;
    }
    return sum >= 0 ? n : -1;
  },
  'fast reader, for await (per record)': async (path) => {
    let n = 0;
    let sum = 0;
    for await (const r of openPcap(path)) {
      sum += r.data[0]!;
      n++;
    }
    return sum >= 0 ? n : -1;
  },
  'pcap-parser (raw events)': (path) =>
    new Promise<number>((resolve, reject) => {
      const require = createRequire(import.meta.url);
      const pcapParser = require('pcap-parser') as PcapParserModule;
      let n = 0;
      let sum = 0;
      const parser = pcapParser.parse(path);
      parser.on('packet', (p: { data: Buffer }) => {
        sum += p.data[0]!;
        n++;
      });
      parser.on('error', reject);
      parser.on('end', () => resolve(sum >= 0 ? n : -1));
    }),
  'pcap-parser oracle wrapper': async (path) => {
    let n = 0;
    let sum = 0;
    for await (const r of readWithPcapParser(path)) {
      sum += r.data[0]!;
      n++;
    }
    return sum >= 0 ? n : -1;
  },
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function time(fn: () => Promise<number> | number, expected: number): Promise<number> {
  const t0 = process.hrtime.bigint();
  const n = await fn();
  const dt = Number(process.hrtime.bigint() - t0);
  if (n !== expected) throw new Error(`read ${n} packets, expected ${expected}`);
  return dt;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'bench-pcap-'));
  const path = join(dir, 'bench.pcap');
  try {
    const bytes = writeCapture(path, args.packets);
    console.log(
      `bench-pcap: ${args.packets} packets of ${PACKET_BYTES} bytes, ${(bytes / 1e6).toFixed(1)} MB; Node ${process.version}; ` +
        `median of ${args.runs} timed runs after 1 warm-up`,
    );
    const results: Array<{ name: string; ns: number; first: number }> = [];
    for (const [name, read] of Object.entries(readers)) {
      const runs: number[] = [];
      for (let i = 0; i <= args.runs; i++) runs.push(await time(() => read(path), args.packets));
      results.push({ name, ns: median(runs.slice(1)) / args.packets, first: runs[0]! / args.packets });
    }
    const tcpdump = spawnSync('tcpdump', ['--version'], { stdio: 'ignore' });
    if (tcpdump.error === undefined && tcpdump.status === 0) {
      const runs: number[] = [];
      for (let i = 0; i <= args.runs; i++) {
        runs.push(
          await time(() => {
            const r = spawnSync('tcpdump', ['-r', path, '-w', '/dev/null'], { stdio: 'ignore' });
            if (r.status !== 0) throw new Error(`tcpdump exited with ${r.status}`);
            return args.packets;
          }, args.packets),
        );
      }
      results.push({ name: 'tcpdump -r FILE -w /dev/null', ns: median(runs.slice(1)) / args.packets, first: runs[0]! / args.packets });
    } else {
      console.log('bench-pcap: tcpdump not found (apt-get install tcpdump); its row is left out');
    }
    const sync = results[0]!.ns;
    const tcp = results.find((r) => r.name.startsWith('tcpdump'))?.ns;
    const w = Math.max(...results.map((r) => r.name.length));
    console.log(`${'reader'.padEnd(w)}  ns/packet  (first run)  × sync reader${tcp !== undefined ? '  × tcpdump' : ''}`);
    for (const r of results) {
      const cols = [
        r.name.padEnd(w),
        r.ns.toFixed(0).padStart(9),
        `(${r.first.toFixed(0)})`.padStart(11),
        (r.ns / sync).toFixed(2).padStart(13),
      ];
      if (tcp !== undefined) cols.push((r.ns / tcp).toFixed(2).padStart(11));
      console.log(cols.join('  '));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
