/**
 * The command line on objects as real projects build them (issue 9):
 * `dump` lists static programs and says where a type was assumed; `--type xdp`
 * on dump/check/run; the one-line notice for a pre-1.0 "xdp*" section name;
 * `--map-size NAME=N` and the input error naming a map left at 0; kfunc
 * programs listed by kfunc name, run by the kernel engine, refused by name
 * on the host engines. Exit codes: 0 / 3 verdicts, 1 input errors.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../offload/cli/main.js';
import { kernelAvailable } from '../../xdp/kernel/kernel-oracle.js';
import { loadObject } from '../../xdp/object/load-object.js';
import { sectionByName } from '../../xdp/elf/elf.js';
import { FIXTURE_OBJ } from '../support/paths.js';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

const obj = (name: string) => join(FIXTURE_OBJ, `${name}.o`);
const PCAP = join(FIXTURE_OBJ, '..', 'pcap', 'mixed.pcap');
const kernel = kernelAvailable();
const kernelOk = kernel.ok && kernel.privileged;
if (!kernelOk) console.log(`SKIP offload run --engine kernel on real-world objects: ${kernel.ok ? 'not privileged' : kernel.reason}`);

const dir = mkdtempSync(join(tmpdir(), 'offload-rw-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** rw_max_entries_zero.o with 'flows' at max_entries 0 (its BTF array of 4093 elements emptied). */
function flowsAtZero(): string {
  const bytes = new Uint8Array(readFileSync(obj('rw_max_entries_zero')));
  const o = loadObject(bytes, 'x.o');
  const arr = o.btf!.types.find((t) => t.kind === 'ARRAY' && (t as { nelems: number }).nelems === 4093)!;
  new DataView(bytes.buffer).setUint32(sectionByName(o.elf, '.BTF')!.offset + arr.offset + 20, 0, true);
  const file = join(dir, 'flows0.o');
  writeFileSync(file, bytes);
  return file;
}

describe('offload dump', () => {
  it('lists static programs as such, and a .text subprogram only inside its caller', async () => {
    const { code, out, err } = await run('dump', obj('rw_static_progs'), '--no-source');
    expect([code, err]).toEqual([0, '']);
    expect(out).toMatch(/^ {2}tail_ipv4 {2}section xdp\/tail {2}XDP {2}static {2}\d+ insns/m);
    expect(out).toMatch(/^ {2}xdp_tail_entry {2}section xdp {2}XDP {2}\d+ insns, 2 function\(s\)$/m);
    expect(out).toContain('init [0]=tail_ipv4 [1]=tail_ipv6 [2]=tail_other');
    expect(out).toContain('too_short:  (subprogram from .text)');
    const json = JSON.parse((await run('dump', obj('rw_static_progs'), '--json', '-s', 'xdp/tail')).out);
    expect(json.programs.map((p: { name: string; static: boolean }) => [p.name, p.static])).toEqual([
      ['tail_ipv4', true], ['tail_ipv6', true], ['tail_other', true],
    ]);
  });

  it('says where a type was assumed (stdout, not a notice); --type xdp lists the "prog" program too', async () => {
    const plain = await run('dump', obj('rw_legacy_sections'), '--no-source');
    expect([plain.code, plain.err]).toEqual([0, '']);
    expect(plain.out).toMatch(/xdp_count_proto {2}section xdp1 {2}XDP {2}\(type assumed from a pre-libbpf-1\.0 section name; --type xdp to say so\)/);
    expect(plain.out).toMatch(/^ {2}xdp_drop_ipv6 {2}section prog {2}UNKNOWN$/m);
    const typed = await run('dump', obj('rw_legacy_sections'), '--no-source', '--type', 'xdp');
    expect(typed.out).toMatch(/^.*3 XDP program\(s\)/);
    expect(typed.out).toMatch(/xdp_drop_ipv6 {2}section prog {2}XDP {2}\(type from --type\)/);
  });

  it('names each kfunc a program calls', async () => {
    const { code, out } = await run('dump', obj('rw_kfunc_ct'), '--no-source');
    expect(code).toBe(0);
    expect(out).toMatch(/kfuncs bpf_xdp_ct_lookup bpf_ct_release$/m);
    expect(out).toMatch(/^\s+\d+: call bpf_xdp_ct_lookup \(kfunc\)$/m);
    expect(out).toMatch(/^\s+\d+: call bpf_ct_release \(kfunc\)$/m);
  });

  it('shows a map left at 0 and what sizes it; --map-size sizes it', async () => {
    const file = flowsAtZero();
    const plain = await run('dump', file, '--no-source');
    expect(plain.code).toBe(0);
    expect(plain.out).toMatch(/flows +HASH +4 +8 +0 .*max 0: needs --map-size flows=N/);
    expect(plain.out).toMatch(/new_flow_events +PERF_EVENT_ARRAY +4 +4 +0 .*max 0: one per possible CPU at load/);
    const sized = await run('dump', file, '--no-source', '--map-size', 'flows=2048');
    expect(sized.out).toMatch(/flows +HASH +4 +8 +2048 /);
  });
});

describe('offload check', () => {
  it('"prog" without --type: exit 1 suggesting --type xdp; with it: a verdict, no notice', async () => {
    const plain = await run('check', obj('rw_legacy_sections'), '-s', 'prog');
    expect(plain.code).toBe(1);
    expect(plain.err).toBe("offload: " + obj('rw_legacy_sections') +
      ": 'prog' is program 'xdp_drop_ipv6' in section 'prog', a name that says no program type; if it is an XDP program, say so with --type xdp (as bpftool prog load ... type xdp)\n");
    const typed = await run('check', obj('rw_legacy_sections'), '-s', 'prog', '--type', 'xdp', '--json');
    expect([typed.code, typed.err, JSON.parse(typed.out).verdict]).toEqual([0, '', 'offload']);
  });

  it('an "xdp1" section: the verdict, and one notice line on stderr that --type xdp silences', async () => {
    const plain = await run('check', obj('rw_legacy_sections'), '-s', 'xdp1', '--json');
    expect(plain.code).toBe(0);
    expect(plain.err.split('\n').filter(Boolean)).toEqual([
      "offload: notice: section 'xdp1' is not a libbpf 1.0 section name: program 'xdp_count_proto' is taken as XDP (attach XDP), as libbpf before 1.0 did; --type xdp says so and silences this notice",
    ]);
    const typed = await run('check', obj('rw_legacy_sections'), '-s', 'xdp1', '--json', '--type', 'xdp');
    expect([typed.code, typed.err]).toEqual([0, '']);
    expect(JSON.parse(typed.out).verdict).toBe(JSON.parse(plain.out).verdict);
  });

  it('--type other than xdp is a usage error', async () => {
    const r = await run('check', obj('basic_actions'), '--type', 'tc');
    expect(r).toEqual({ code: 1, out: '', err: "offload: --type expects xdp (the only program type this tool runs), got 'tc'\n" });
  });

  it('a map left at 0 is an input error naming it; --map-size gives the verdict', async () => {
    const file = flowsAtZero();
    const r = await run('check', file);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`offload: ${file}, section .maps: map 'flows' has max_entries 0: loaders size it before loading; give --map-size flows=N\n`);
    const sized = await run('check', file, '--map-size', 'flows=1024', '--json');
    expect([sized.code, sized.err, JSON.parse(sized.out).verdict]).toEqual([3, '', 'host']);
    for (const bad of ['flows', 'flows=0', 'flows=x', 'flows=4294967296']) {
      const b = await run('check', file, '--map-size', bad);
      expect([b.code, b.err]).toEqual([1, `offload: --map-size expects NAME=N with N in 1..4294967295, got '${bad}'\n`]);
    }
    const twice = await run('check', file, '--map-size', 'flows=1', '--map-size', 'flows=2');
    expect([twice.code, twice.err]).toEqual([1, "offload: --map-size names map 'flows' twice\n"]);
    const unknown = await run('check', file, '--map-size', 'nosuch=4');
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/--map-size names map 'nosuch', which the object does not have/);
  });
});

describe('offload run', () => {
  it('a kfunc program on a host engine: refused by name (exit 1)', async () => {
    for (const engine of ['host', 'interp']) {
      const r = await run('run', obj('rw_kfunc_ct'), '--pcap', PCAP, '--engine', engine, '--no-progress');
      expect([r.code, r.err]).toEqual([1, 'offload: kfunc bpf_xdp_ct_lookup cannot run on the host engine: kernel functions run only in the kernel (--engine kernel)\n']);
    }
  });

  it('a map left at 0 on the host engine: the same input error; sized, it runs', async () => {
    const file = flowsAtZero();
    const r = await run('run', file, '--pcap', PCAP, '--no-progress');
    expect(r.code).toBe(1);
    expect(r.err).toContain("map 'flows' has max_entries 0: loaders size it before loading; give --map-size flows=N");
    const sized = await run('run', file, '--pcap', PCAP, '--no-progress', '--json', '--map-size', 'flows=64', '--cpus', '3');
    expect(sized.code).toBe(0);
    expect(JSON.parse(sized.out).actions.XDP_PASS).toBeGreaterThan(0);
  });

  it.skipIf(!kernelOk)('--engine kernel runs the kfunc program (TCP without a conntrack entry dropped)', async () => {
    const r = await run('run', obj('rw_kfunc_ct'), '--pcap', PCAP, '--engine', 'kernel', '--no-progress', '--json');
    expect([r.code, r.err]).toEqual([0, '']);
    const doc = JSON.parse(r.out);
    expect(doc.actions.XDP_DROP).toBeGreaterThan(0);
    expect(doc.actions.XDP_PASS).toBeGreaterThan(0);
    expect(doc.actions.XDP_ABORTED).toBe(0);
  });

  it.skipIf(!kernelOk)('--engine kernel with a kfunc the kernel lacks: libbpf\'s message, exit 1', async () => {
    const r = await run('run', obj('rw_kfunc_missing'), '--pcap', PCAP, '--engine', 'kernel', '--no-progress');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^offload: .*rw_kfunc_missing\.o, section xdp: extern \(func ksym\) 'bpf_xdp_flow_lookup': not found in kernel or module BTFs/);
  });

  it.skipIf(!kernelOk)('--type xdp reaches the kernel loader: the "prog" program runs there as on the host', async () => {
    const host = JSON.parse((await run('run', obj('rw_legacy_sections'), '-s', 'prog', '--type', 'xdp', '--pcap', PCAP, '--no-progress', '--json')).out);
    const k = await run('run', obj('rw_legacy_sections'), '-s', 'prog', '--type', 'xdp', '--pcap', PCAP, '--engine', 'kernel', '--no-progress', '--json');
    expect([k.code, k.err]).toEqual([0, '']);
    expect(JSON.parse(k.out).actions).toEqual(host.actions);
    expect(host.actions.XDP_DROP).toBeGreaterThan(0);
  });
});
