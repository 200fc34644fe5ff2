/**
 * Output paths a user may give (issue 10, points 2–4): none may hang the tool (`--out /proc/newdir`
 * spun forever in Node's recursive mkdir), and a path that cannot be written is one line naming it,
 * exit 1, before any work is done.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkOutputFile, makeOutputDir, OutputError } from '../../xdp/output/output-paths.js';
import { FIXTURE_OBJ, REPO } from '../support/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'offload-out-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `offload run` in its own process, so that a hang is a timeout here and not a stuck test run. */
function run(...args: string[]) {
  const r = spawnSync(process.execPath, [join(REPO, 'bin', 'offload.js'), 'run', join(FIXTURE_OBJ, 'basic_actions.o'), '-s', 'xdp_pass_all',
    '--pcap', join(REPO, 'fixtures', 'pcap', 'mixed.pcap'), '--no-progress', ...args], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, signal: r.signal, out: r.stdout, err: r.stderr };
}

describe('output directories', () => {
  it('makes the missing directories, one at a time, and takes an existing one', () => {
    const deep = join(dir, 'a', 'b', 'c');
    makeOutputDir(deep);
    makeOutputDir(deep);
    expect(readdirSync(join(dir, 'a', 'b'))).toEqual(['c']);
  });

  it('refuses, without looping, what cannot be a directory', () => {
    const file = join(dir, 'plain');
    writeFileSync(file, 'x');
    expect(() => makeOutputDir(file)).toThrow(new OutputError('exists and is not a directory', { file }));
    expect(() => makeOutputDir(join(file, 'sub'))).toThrow(`${file} exists and is not a directory`);
    expect(() => makeOutputDir('/proc/offload-newdir')).toThrow(/cannot create directory \/proc\/offload-newdir/);
  });

  it('run --out under /proc ends at once with one line, exit 1', () => {
    const r = run('--out', '/proc/offload-newdir');
    expect([r.signal, r.code]).toEqual([null, 1]);
    expect(r.err).toBe('offload: /proc/offload-newdir: cannot create directory /proc/offload-newdir: cannot be created here (no such directory, or a file system that makes none)\n');
  });
});

describe('output files', () => {
  it('a writable path passes and is left as it was', () => {
    const fresh = join(dir, 'fresh.json');
    checkOutputFile(fresh);
    expect(readdirSync(dir)).not.toContain('fresh.json');
  });

  it('a directory, a missing directory, or an unwritable place is named', () => {
    expect(() => checkOutputFile(dir)).toThrow(`${dir}: is a directory`);
    expect(() => checkOutputFile(join(dir, 'nowhere', 'x.json'))).toThrow(/x\.json: its directory .*nowhere does not exist/);
    expect(() => checkOutputFile('/proc/offload-x.json')).toThrow(/\/proc\/offload-x\.json: cannot be written/);
  });
});

describe('user mistakes in run and check: one line naming the path, exit 1, never a stack trace', () => {
  const cases: [string, string[], string][] = [
    ['--out naming a file', ['--out', '/etc/passwd'], 'offload: /etc/passwd: exists and is not a directory\n'],
    ['--trace under /proc', ['--trace', '/proc/offload-t.jsonl'], 'offload: /proc/offload-t.jsonl: cannot be written: cannot be created here (no such directory, or a file system that makes none)\n'],
    ['--trace naming a directory', ['--trace', '/tmp'], 'offload: /tmp: is a directory\n'],
    ['--maps-out in a missing directory', ['--maps-out', '/nonexistent-dir/m.json'], 'offload: /nonexistent-dir/m.json: its directory /nonexistent-dir does not exist\n'],
    ['--trace-printk under /proc', ['--engine', 'host', '--trace-printk', '/proc/offload-p.txt'], 'offload: /proc/offload-p.txt: cannot be written: cannot be created here (no such directory, or a file system that makes none)\n'],
  ];
  for (const [label, args, err] of cases) {
    it(label, () => {
      const r = run(...args, '--json');
      expect([r.code, r.err, r.out]).toEqual([1, err, '']);
    });
  }

  it('--pcap naming a directory', () => {
    const r = spawnSync(process.execPath, [join(REPO, 'bin', 'offload.js'), 'run', join(FIXTURE_OBJ, 'basic_actions.o'), '-s', 'xdp_pass_all', '--pcap', '/tmp', '--no-progress'], { encoding: 'utf8', timeout: 20_000 });
    expect([r.status, r.stderr]).toEqual([1, 'offload: /tmp: is a directory, not a capture file\n']);
  });

  it('caps write to a place it cannot write', () => {
    const w = (tlv: string) => spawnSync(process.execPath, [join(REPO, 'bin', 'offload.js'), 'caps', 'write', 'nfp-4000', '--tlv', tlv, '--bar', join(dir, 'bar.bin')], { encoding: 'utf8', timeout: 20_000 });
    expect([w('/tmp').status, w('/tmp').stderr]).toEqual([1, 'offload: /tmp: is a directory\n']);
    expect(w('/proc/offload.tlv').stderr).toBe('offload: /proc/offload.tlv: cannot be written: cannot be created here (no such directory, or a file system that makes none)\n');
    expect(existsSync(join(dir, 'bar.bin'))).toBe(false);
  });

  it('--caps empty or naming a directory', () => {
    const check = (caps: string) => spawnSync(process.execPath, [join(REPO, 'bin', 'offload.js'), 'check', join(FIXTURE_OBJ, 'basic_actions.o'), '-s', 'xdp_pass_all', '--caps', caps], { encoding: 'utf8', timeout: 20_000 });
    expect([check('').status, check('').stderr]).toEqual([1, "offload: --caps expects a profile name (hxdp, minimal, nfp-4000) or a JSON file, got ''\n"]);
    expect([check('/tmp').status, check('/tmp').stderr]).toEqual([1, 'offload: /tmp: is a directory, not a profile (JSON)\n']);
  });
});

describe('no lost results', () => {
  it('--out always holds the five captures of this run, whatever was there before', () => {
    const out = join(dir, 'reused');
    expect(run('--out', out).code).toBe(0);
    const pass = statSync(join(out, 'pass.pcap')).size;
    expect(pass).toBeGreaterThan(24);
    const drop = spawnSync(process.execPath, [join(REPO, 'bin', 'offload.js'), 'run', join(FIXTURE_OBJ, 'basic_actions.o'), '-s', 'xdp_drop_all',
      '--pcap', join(REPO, 'fixtures', 'pcap', 'mixed.pcap'), '--no-progress', '--out', out], { encoding: 'utf8', timeout: 20_000 });
    expect(drop.status).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['aborted.pcap', 'drop.pcap', 'pass.pcap', 'redirect.pcap', 'tx.pcap']);
    // An empty capture is its 24-byte header; the previous run's passed packets are gone.
    expect(statSync(join(out, 'pass.pcap')).size).toBe(24);
    expect(statSync(join(out, 'drop.pcap')).size).toBe(pass);
  });

  const devFull = existsSync('/dev/full');
  it.skipIf(!devFull)(`an output that fails after the replay loses neither the summary nor the other outputs${devFull ? '' : ' (skipped: /dev/full is absent)'}`, () => {
    const traceFile = join(dir, 'trace.jsonl');
    const printk = join(dir, 'printk.txt');
    const r = run('--engine', 'host', '--json', '--maps-out', '/dev/full', '--trace', traceFile, '--trace-printk', printk);
    expect(r.code).toBe(1);
    expect(r.err).toBe('offload: /dev/full: cannot be written: no space left on the device\n');
    const doc = JSON.parse(r.out);
    expect(doc.actions.XDP_PASS).toBeGreaterThan(0);
    expect(readFileSync(traceFile, 'utf8').trim().split('\n').length).toBe(doc.packets - doc.skipped);
    expect(existsSync(printk)).toBe(true);
  });

  it.skipIf(!devFull)(`an output that fails during the replay (the trace) stops alone: the replay, its summary and the captures go on${devFull ? '' : ' (skipped: /dev/full is absent)'}`, () => {
    const out = join(dir, 'during');
    const r = run('--json', '--trace', '/dev/full', '--out', out);
    expect(r.code).toBe(1);
    expect(r.err).toBe('offload: /dev/full: cannot be written: no space left on the device; the trace holds only the first 0 packets\n');
    const doc = JSON.parse(r.out);
    expect(doc.actions.XDP_PASS).toBe(344);
    expect(readdirSync(out).sort()).toEqual(['aborted.pcap', 'drop.pcap', 'pass.pcap', 'redirect.pcap', 'tx.pcap']);
  });

  // A full file system under --out: a tmpfs of 16 KiB takes the empty captures but not 97 KB of jumbo frames.
  const tiny = join(dir, 'tiny');
  const canMount = process.getuid?.() === 0 && (() => {
    spawnSync('mkdir', ['-p', tiny]);
    return spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', tiny]).status === 0;
  })();
  afterAll(() => {
    if (canMount) spawnSync('umount', [tiny]);
  });
  it.skipIf(!canMount)(`a capture under --out that fills the disk is named and dropped; the others are written${canMount ? '' : ' (skipped: needs root to mount a tmpfs)'}`, () => {
    const out = join(tiny, 'o');
    const r = spawnSync(process.execPath, [join(REPO, 'bin', 'offload.js'), 'run', join(FIXTURE_OBJ, 'basic_actions.o'), '-s', 'xdp_pass_all',
      // An MTU the jumbo frames fit (at the default 1500 the card's MAC would drop them all).
      '--pcap', join(REPO, 'fixtures', 'pcap', 'jumbo.pcap'), '--mtu', '20000', '--json', '--out', out], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`offload: ${join(out, 'pass.pcap')}: cannot be written: no space left on the device; not written\n`);
    expect(JSON.parse(r.stdout).actions.XDP_PASS).toBe(13);
    // No half-written capture, no temporary file left behind.
    expect(readdirSync(out).sort()).toEqual(['aborted.pcap', 'drop.pcap', 'redirect.pcap', 'tx.pcap']);
  });
});
