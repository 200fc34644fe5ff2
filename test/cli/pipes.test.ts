/**
 * A reader that stops early (`offload dump x.o | head -1`) ends the tool quietly, as Unix tools end
 * on SIGPIPE: no stack trace, exit 0 (issue 10, point 7).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURE_OBJ, REPO, hasCommand } from '../support/paths.js';

const OFFLOAD = join(REPO, 'bin', 'offload.js');
const shell = hasCommand('bash') && hasCommand('head', ['--version']);
if (!shell) console.log('SKIP pipe tests: bash or head is missing');

/** `offload ARGS | head -1` in bash: head's line, and offload's exit status and stderr. */
function piped(...args: string[]) {
  const script = `"${process.execPath}" "${OFFLOAD}" ${args.map((a) => `'${a}'`).join(' ')} 2>"$ERRFILE" | head -1; echo "status=\${PIPESTATUS[0]}"; cat "$ERRFILE"`;
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ERRFILE: `/tmp/offload-pipe-${process.pid}.err` } });
  const [line, status, ...err] = r.stdout.split('\n');
  return { line, status, err: err.join('\n').trim() };
}

describe.skipIf(!shell)('writing into a closed pipe', () => {
  it('dump | head -1', () => {
    const r = piped('dump', join(FIXTURE_OBJ, 'rw_large_lb.o'));
    expect(r.line).toMatch(/rw_large_lb\.o: 1 XDP program/);
    expect([r.status, r.err]).toEqual(['status=0', '']);
  });

  it('check --log-level 2 | head -1', () => {
    const r = piped('check', join(FIXTURE_OBJ, 'rw_large_lb.o'), '--log-level', '2');
    expect(r.line).toBe('0: R1=ctx() R10=fp0');
    expect([r.status, r.err]).toEqual(['status=0', '']);
  });
});
