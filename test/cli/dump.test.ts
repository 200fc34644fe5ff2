import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../offload/cli/main.js';
import { loadObjectFile } from '../../xdp/object/load-object.js';
import { FIXTURE_OBJ, REPO, builtWithoutDebugInfo, fixtureObjects } from '../support/paths.js';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

describe('offload dump', () => {
  it.each(fixtureObjects().map((p) => [basename(p), p]))('%s: instructions beside their C source lines', async (_n, path) => {
    const { code, out, err } = await run('dump', path);
    const bare = builtWithoutDebugInfo(path);
    // Built without -g: no source to show, and one hint saying how to get it.
    expect(err).toBe(bare ? `offload: hint: ${path}: no line info for ${loadObjectFile(path).programs.map((p) => p.name).join(', ')} (built without -g, or its .BTF.ext stripped), so no C source lines; rebuild with clang -g -O2 -target bpf to see them\n` : '');
    expect(code).toBe(0);
    const obj = loadObjectFile(path);
    for (const p of obj.programs) {
      expect(out).toContain(`Program ${p.name} (section ${p.section}):`);
      // Every instruction appears once with its slot number.
      const listed = out.split('\n').filter((l) => /^\s+\d+: /.test(l));
      expect(listed.length).toBeGreaterThanOrEqual(p.insns.length);
    }
    // Source comments name the fixture's C file and a line in it.
    const sourceLine = new RegExp(`^; .+  @ \\./fixtures/src/${basename(path, '.o')}\\.c:\\d+:\\d+$`, 'm');
    if (bare) expect(out).not.toMatch(/^; .+ @ /m);
    else expect(out).toMatch(sourceLine);
  });

  it('--json describes programs, maps and every instruction', async () => {
    const path = join(FIXTURE_OBJ, 'firewall_5tuple.o');
    const { code, out } = await run('dump', path, '--json');
    expect(code).toBe(0);
    const doc = JSON.parse(out);
    const obj = loadObjectFile(path);
    expect(doc.programs).toHaveLength(obj.programs.length);
    expect(doc.programs[0].insns).toHaveLength(obj.programs[0]!.insns.length);
    expect(doc.maps.map((m: { name: string; type: string }) => [m.name, m.type])).toEqual(obj.maps.map((m) => [m.name, expect.any(String)]));
    const hash = doc.maps.find((m: { type: string }) => m.type === 'HASH');
    expect(hash.keyType).toMatch(/^struct /);
    expect(doc.programs[0].insns.filter((i: { source?: unknown }) => i.source).length).toBeGreaterThan(0);
    expect(doc.programs[0].insns.some((i: { text: string }) => /map\[fw_rules\]/.test(i.text))).toBe(true);
    expect(doc.programs[0].insns.some((i: { text: string }) => /call bpf_map_lookup_elem#1/.test(i.text))).toBe(true);
  });

  it('--section picks programs by section or name; a non-XDP section is refused by type', async () => {
    const path = join(FIXTURE_OBJ, 'basic_actions.o');
    const pass = await run('dump', path, '--section', 'xdp/pass', '--no-source');
    expect(pass.code).toBe(0);
    expect(pass.out).toContain('Program xdp_pass_all (section xdp/pass):');
    expect(pass.out).not.toContain('Program xdp_drop_all');
    const tc = await run('dump', path, '--section', 'tc');
    expect(tc.code).toBe(1);
    expect(tc.err).toMatch(/^offload: .*basic_actions\.o: 'tc' is a SCHED_CLS program \(section tc\); only XDP programs/);
  });

  it('bad input: a missing file, a non-ELF file, a missing argument — one line, exit 1', async () => {
    const missing = await run('dump', '/nonexistent/x.o');
    expect(missing).toMatchObject({ code: 1 });
    expect(missing.err).toBe('offload: /nonexistent/x.o: cannot read: ENOENT\n');
    const dir = mkdtempSync(join(tmpdir(), 'dump-'));
    const junk = join(dir, 'junk.o');
    writeFileSync(junk, 'this is not an object file at all, but it is long enough to have a header....');
    const bad = await run('dump', junk);
    expect(bad.code).toBe(1);
    expect(bad.err).toBe(`offload: ${junk}, offset 0x0: not an ELF file: expected magic 7f 45 4c 46\n`);
    const usage = await run('dump');
    expect(usage.code).toBe(1);
    expect(usage.err).toMatch(/missing required argument/);
  });

  it('the installed bin runs (npx offload)', () => {
    const bin = join(REPO, 'bin', 'offload.js');
    expect(existsSync(join(REPO, 'dist', 'offload', 'cli', 'main.js')), 'dist/ is built by npm install (prepare) and npm test').toBe(true);
    const r = spawnSync(process.execPath, [bin, 'dump', join(FIXTURE_OBJ, 'mac_swap_tx.o')], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Program xdp_mac_swap_tx (section xdp):');
    const help = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    expect(help.stdout).toContain('dump [options] <prog.o>');
  });
});
