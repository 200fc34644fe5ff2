/**
 * Memory does not grow with the capture: a ~200 MB capture (generated in the
 * temporary directory and deleted afterwards) is read end to end, synchronously,
 * by batches, and by the pcap-parser oracle, and the process's resident set may
 * not grow by more than 100 MB over what it was before reading.
 */
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCapture } from '../../xdp/pcap/capture.js';
import { readWithPcapParser } from '../../xdp/pcap/pcap-parser-reader.js';
import { buildPcap, payload } from './builders.js';

const TARGET_BYTES = 200 * 1024 * 1024;
const LIMIT_MB = 100;
const MB = 1024 * 1024;

/** Writes the capture: one ~4 MiB run of records of assorted lengths, repeated. */
function writeBigCapture(path: string): { records: number; bytes: number } {
  const lengths: number[] = [];
  let runBytes = 0;
  for (let i = 0; runBytes < 4 * MB; i++) {
    const len = 60 + ((i * 7919) % 1455);
    lengths.push(len);
    runBytes += 16 + len;
  }
  const whole = buildPcap({ records: lengths.map((len, i) => ({ data: payload(len, i), tsSec: 1_700_000_000, tsFrac: i % 1_000_000 })) });
  const header = whole.subarray(0, 24);
  const run = whole.subarray(24);
  const reps = Math.ceil(TARGET_BYTES / run.length);
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, header);
    for (let i = 0; i < reps; i++) writeSync(fd, run);
  } finally {
    closeSync(fd);
  }
  return { records: lengths.length * reps, bytes: 24 + run.length * reps };
}

describe('reading a ~200 MB capture', () => {
  it(`keeps the resident set within ${LIMIT_MB} MB of where it started`, async () => {
    const path = join(tmpdir(), `pcap-memory-${process.pid}-${Date.now()}.pcap`);
    try {
      const t0 = Date.now();
      const { records, bytes } = writeBigCapture(path);
      const tWrite = Date.now();
      const base = process.memoryUsage().rss;
      let peak = base;
      const sample = (): void => {
        const rss = process.memoryUsage().rss;
        if (rss > peak) peak = rss;
      };

      const sync = openCapture(path);
      let n = 0;
      let sum = 0;
      for (const r of sync) {
        sum += r.data[0] ?? 0;
        if (++n % 8192 === 0) sample();
      }
      expect(n).toBe(records);
      expect(sync.stats.read).toBe(records);
      const tSync = Date.now();

      const batched = openCapture(path);
      n = 0;
      for await (const batch of batched.batches()) {
        n += batch.length;
        sample();
      }
      expect(n).toBe(records);
      const tBatches = Date.now();

      const oracle = readWithPcapParser(path);
      n = 0;
      for await (const r of oracle) {
        sum += r.data[0] ?? 0;
        if (++n % 8192 === 0) sample();
      }
      expect(n).toBe(records);
      const tOracle = Date.now();
      sample();

      const growthMb = (peak - base) / MB;
      console.log(
        `pcap memory: ${(bytes / MB).toFixed(0)} MB, ${records} records, written in ${tWrite - t0} ms; ` +
          `rss before reading ${(base / MB).toFixed(0)} MB, peak growth ${growthMb.toFixed(1)} MB over three reads ` +
          `(sync ${tSync - tWrite} ms, batches ${tBatches - tSync} ms, pcap-parser ${tOracle - tBatches} ms); checksum ${sum}`,
      );
      expect(growthMb).toBeLessThan(LIMIT_MB);
    } finally {
      rmSync(path, { force: true });
    }
  }, 60_000);
});
