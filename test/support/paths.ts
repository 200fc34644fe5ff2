/** Locations of the project's fixtures and of the shared test material beside the checkout. */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURE_OBJ = join(REPO, 'fixtures', 'obj');
export const SHARED = resolve(REPO, '..', 'shared');

export function fixtureObjects(): string[] {
  return readdirSync(FIXTURE_OBJ).filter((f) => f.endsWith('.o')).sort().map((f) => join(FIXTURE_OBJ, f));
}

/** Is `cmd` on PATH (answers `--version`, or the given arguments, with success)? */
export function hasCommand(cmd: string, args: readonly string[] = ['--version']): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return r.error === undefined && r.status === 0;
}

export const sharedExists = (sub: string): boolean => existsSync(join(SHARED, sub));

/** A fixture built with `// cflags: -g0` (no BTF, no line info), by object path or name. */
export function builtWithoutDebugInfo(object: string): boolean {
  const src = join(REPO, 'fixtures', 'src', `${basename(object, '.o')}.c`);
  return /^\s*\/\/\s*cflags:.*(^|\s)-g0(\s|$)/m.test(readFileSync(src, 'utf8').split('\n').slice(0, 10).join('\n'));
}

/**
 * Why `tcpdump -r` cannot read a capture here (its own last line of error), or undefined when it can.
 * Installed is not enough: without CAP_SETUID Debian's tcpdump fails when it drops to its own user.
 */
export function tcpdumpUnusable(): string | undefined {
  const r = spawnSync('tcpdump', ['-n', '-r', join(REPO, 'fixtures', 'pcap', 'short-frames.pcap')], { encoding: 'utf8' });
  if (r.error !== undefined) return 'tcpdump not found (apt-get install tcpdump)';
  if (r.status !== 0 || /Couldn't|Operation not permitted/.test(r.stderr)) return r.stderr.trim().split('\n').pop() ?? `tcpdump exited ${r.status}`;
  return undefined;
}
