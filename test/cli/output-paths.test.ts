/**
 * Output paths a user may give (issue 10, points 2–4): none may hang the tool (`--out /proc/newdir`
 * spun forever in Node's recursive mkdir), and a path that cannot be written is one line naming it,
 * exit 1, before any work is done.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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
