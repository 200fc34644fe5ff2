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
