/**
 * The fast readers against independent readers over real captures:
 * - every classic pcap of tcpdump's test suite (../shared/pcaps/tcpdump): the fast
 *   reader and the pcap-parser oracle must yield exactly the same records and
 *   skip the same ones, and records + skips must be the MANIFEST's packet count;
 * - every pcapng there: the pcapng reader against `tcpdump -r FILE -w -` (libpcap's
 *   pcapng reader, re-written as classic pcap) read by the oracle;
 * - the project's fixtures/pcap/*.pcap, microsecond and nanosecond.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, tcpdumpUnusable } from '../support/paths.js';
import { openCapture } from '../../xdp/pcap/capture.js';
import { SKIP_REASONS } from '../../xdp/pcap/capture-record.js';
import { firstDifference, readFast, readOracle, type ReadResult } from './read-all.js';
import { tempDir } from './builders.js';

const CORPUS = resolve(REPO, '..', 'shared', 'pcaps', 'tcpdump');
const FIXTURES = join(REPO, 'fixtures', 'pcap');

interface ManifestRow {
  file: string;
  bytes: number;
  format: string;
  linktype: number;
  packets: number;
  maxCaplen: number;
  structureIssue: string;
  nameSaysMalformed: boolean;
}

function readManifest(): ManifestRow[] {
  const lines = readFileSync(join(CORPUS, 'MANIFEST.tsv'), 'utf8').split('\n').filter((l) => l.length > 0);
  const head = lines[0]!.split('\t');
  const col = (name: string): number => {
    const i = head.indexOf(name);
    if (i < 0) throw new Error(`MANIFEST.tsv has no column ${name}`);
    return i;
  };
  const c = {
    file: col('file'),
    bytes: col('bytes'),
    format: col('format'),
    linktype: col('linktype'),
    packets: col('packets'),
    max: col('max_caplen'),
    issue: col('structure_issue'),
    malformed: col('name_says_malformed'),
  };
  return lines.slice(1).map((line) => {
    const f = line.split('\t');
    return {
      file: f[c.file]!,
      bytes: Number(f[c.bytes]),
      format: f[c.format]!,
      linktype: Number(f[c.linktype]),
      packets: Number(f[c.packets]),
      maxCaplen: Number(f[c.max]),
      structureIssue: (f[c.issue] ?? '').trim(),
      nameSaysMalformed: f[c.malformed] === 'yes',
    };
  });
}

const haveCorpus = existsSync(join(CORPUS, 'MANIFEST.tsv'));
if (!haveCorpus) console.log(`pcap differential: ${CORPUS}/MANIFEST.tsv not found; the tcpdump-corpus comparisons are skipped`);
const noTcpdump = tcpdumpUnusable();
const haveTcpdump = noTcpdump === undefined;
if (!haveTcpdump) console.log(`SKIP pcap differential, pcapng comparisons: ${noTcpdump}`);

function addSkips(into: Record<string, number>, r: ReadResult): void {
  for (const reason of SKIP_REASONS) {
    const n = r.skipped[reason];
    if (n !== undefined) into[reason] = (into[reason] ?? 0) + n;
  }
}

describe.skipIf(!haveCorpus)('tcpdump corpus, classic pcap: fast reader = pcap-parser oracle', () => {
  it('yields the same records and skips, and accounts for every packet of the MANIFEST', async () => {
    const rows = readManifest().filter((r) => r.format === 'pcap');
    expect(rows.length).toBeGreaterThan(0);
    let files = 0;
    let packets = 0;
    let malformedFiles = 0;
    const skips: Record<string, number> = {};
    const withIssues: string[] = [];
    for (const row of rows) {
      const path = join(CORPUS, row.file);
      const fast = await readFast(path, 'async');
      const oracle = await readOracle(path);
      const where = `${row.file}`;
      // The same records, field by field and byte by byte, and the same skips.
      expect(firstDifference(fast.records, oracle.records), where).toBeUndefined();
      expect(fast.skipped, where).toEqual(oracle.skipped);
      expect(fast.error?.message, where).toBe(oracle.error?.message);
      // The other ways of consuming the fast reader give the same.
      const sync = await readFast(path, 'sync');
      const batches = await readFast(path, 'batches', { chunkBytes: 1 << 18 });
      expect(firstDifference(sync.records, fast.records), where).toBeUndefined();
      expect(firstDifference(batches.records, fast.records), where).toBeUndefined();
      expect(fast.read).toBe(fast.records.length);
      if (row.structureIssue === '') {
        // Clean framing: no error, nothing cut short, and records + skips = the MANIFEST's count.
        expect(fast.error, where).toBeUndefined();
        expect(fast.skipped.truncated, where).toBeUndefined();
        expect(fast.read + fast.skippedTotal, where).toBe(row.packets);
      } else {
        // The MANIFEST names a framing problem: the readers must agree (above) and
        // cannot account for more records than the file holds.
        withIssues.push(`${row.file} (${row.structureIssue})`);
        expect(fast.read + fast.skippedTotal, where).toBeLessThanOrEqual(row.packets + 1);
      }
      if (fast.records.length > 0) {
        expect(fast.records[0]!.linkType, where).toBe(row.linktype & 0xffff);
        expect(Math.max(...fast.records.map((r) => r.capLen)), where).toBeLessThanOrEqual(row.maxCaplen);
      }
      files++;
      packets += fast.records.length;
      if (row.nameSaysMalformed) malformedFiles++;
      addSkips(skips, fast);
    }
    console.log(
      `pcap differential: ${files} classic captures compared (${malformedFiles} named as malformed), ` +
        `${packets} packets compared, skips by reason: ${JSON.stringify(skips)}; ` +
        `MANIFEST structure issues: ${withIssues.length === 0 ? 'none' : withIssues.join(', ')}`,
    );
  });
});

describe.skipIf(!haveCorpus || !haveTcpdump)('tcpdump corpus, pcapng: pcapng reader = libpcap (tcpdump -w -) read by the oracle', () => {
  it('yields the same packets; seconds compared modulo 2^32 (a classic pcap holds 32 bits)', async () => {
    const rows = readManifest().filter((r) => r.format === 'pcapng');
    const tmp = tempDir('pcapng-diff-');
    let files = 0;
    let packets = 0;
    const wrapped: string[] = [];
    try {
      for (const row of rows) {
        const path = join(CORPUS, row.file);
        const ours = await readFast(path, 'async');
        expect(ours.error, row.file).toBeUndefined();
        expect(ours.read + ours.skippedTotal, row.file).toBe(row.packets);
        const r = spawnSync('tcpdump', ['-r', path, '--time-stamp-precision=nano', '-w', '-'], { maxBuffer: 1 << 28 });
        expect(r.status, `${row.file}: ${r.stderr.toString()}`).toBe(0);
        const theirs = await readOracle(tmp.write(`${row.file}.pcap`, r.stdout));
        expect(theirs.error, row.file).toBeUndefined();
        expect(theirs.records.length, row.file).toBe(ours.records.length);
        ours.records.forEach((a, i) => {
          const b = theirs.records[i]!;
          const where = `${row.file} packet ${i}`;
          // Rule: libpcap writes the seconds into the 32-bit pcap field, so times past
          // 2106 wrap there; compare seconds modulo 2^32 and note the files where it matters.
          expect(a.tsSec % 2 ** 32, where).toBe(b.tsSec);
          if (a.tsSec !== b.tsSec && !wrapped.includes(row.file)) wrapped.push(row.file);
          expect(a.tsNsec, where).toBe(b.tsNsec);
          expect(a.capLen, where).toBe(b.capLen);
          expect(a.origLen, where).toBe(b.origLen);
          expect(a.linkType, where).toBe(b.linkType);
          expect(Buffer.compare(a.data, b.data), where).toBe(0);
        });
        files++;
        packets += ours.records.length;
      }
    } finally {
      tmp.cleanup();
    }
    console.log(
      `pcapng differential: ${files} pcapng captures, ${packets} packets compared with tcpdump's rewrite; ` +
        `seconds wrapped at 2^32 in: ${wrapped.join(', ') || 'none'}`,
    );
  });
});

describe('fixtures/pcap: fast reader = pcap-parser oracle', () => {
  const names = readdirSync(FIXTURES).filter((f) => f.endsWith('.pcap')).sort();
  const manifest = JSON.parse(readFileSync(join(FIXTURES, 'manifest.json'), 'utf8')) as {
    captures: Record<string, { packets: number; timestampResolution: string }>;
  };

  it('covers a nanosecond capture', () => {
    expect(names.some((n) => manifest.captures[n]?.timestampResolution === 'ns')).toBe(true);
  });

  for (const name of names) {
    it(name, async () => {
      const path = join(FIXTURES, name);
      const fast = await readFast(path, 'async');
      const oracle = await readOracle(path);
      expect(fast.error).toBeUndefined();
      expect(oracle.error).toBeUndefined();
      expect(firstDifference(fast.records, oracle.records)).toBeUndefined();
      expect(fast.skippedTotal).toBe(0);
      expect(fast.read).toBe(manifest.captures[name]?.packets);
      const capture = openCapture(path);
      const ns = manifest.captures[name]?.timestampResolution === 'ns';
      expect(capture.format).toBe('pcap');
      if (capture.format === 'pcap') expect(capture.header.nanosecond).toBe(ns);
      capture.close();
      if (ns) expect(fast.records.some((r) => r.tsNsec % 1000 !== 0)).toBe(true);
    });
  }
});
