/**
 * `offload check --caps` and `offload caps ...` from the command line: every
 * fixture program's verdict on every shipped profile (pinned; docs/caps.md
 * explains each), exit codes, the text and JSON reports, and bad profiles and
 * capability areas reported with their JSON path or offset, never a stack trace.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveProfile } from '../../caps/load-profile.js';
import { main } from '../../offload/cli/main.js';
import { loadObjectFile } from '../../xdp/object/load-object.js';
import { FIXTURE_OBJ, fixtureObjects } from '../support/paths.js';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

/** Verdict and the rules behind it, per fixture program, on nfp-4000 / hxdp / minimal. */
const VERDICTS: Readonly<Record<string, readonly [string, string, string]>> = {
  'alu32_jmp32/xdp_port_range': ['offload', 'offload', 'host: insn-class'],
  'basic_actions/xdp_drop_all': ['offload', 'offload', 'offload'],
  'basic_actions/xdp_abort_all': ['offload', 'offload', 'host: action'],
  'basic_actions/xdp_pass_all': ['offload', 'offload', 'offload'],
  'basic_actions/xdp_tx_all': ['host: attach', 'host: attach', 'host: action attach'],
  'fib_lookup/xdp_fib_forward': ['host: ctx-load helper', 'host: ctx-load helper', 'host: ctx-load helper program-size'],
  'firewall_5tuple/xdp_firewall': ['offload', 'offload', 'host: atomic map-type program-size'],
  'flow_lru/xdp_flow_lru': ['host: helper map-type', 'host: map-type', 'host: atomic helper map-type program-size'],
  'ipip_encap/xdp_ipip_encap': ['offload', 'offload', 'host: action helper map-limit program-size'],
  'ipv6_ext_walk/xdp_ipv6_ext_walk': ['host: packet-split', 'host: insn-class packet-split', 'host: atomic insn-class map-limit packet-split program-size'],
  'legacy_maps/xdp_legacy_count': ['offload', 'offload', 'host: atomic'],
  'mac_swap_tx/xdp_mac_swap_tx': ['offload', 'offload', 'host: action'],
  'map_in_map/xdp_map_in_map': ['host: map-type', 'host: map-type', 'host: atomic map-type'],
  'parse_l3/xdp_parse_l3': ['offload', 'offload', 'host: program-size'],
  'proto_count_array/xdp_proto_count': ['offload', 'offload', 'host: atomic map-limit'],
  'proto_count_percpu/xdp_proto_count_percpu': ['host: map-type', 'host: map-type', 'host: map-type'],
  'redirect_devmap/xdp_redirect_devmap': ['host: ctx-load helper map-type', 'host: ctx-load', 'host: ctx-load helper map-type'],
  'reject_unbounded_loop/xdp_spin_until_resumed': ['reject: verifier', 'reject: verifier', 'reject: verifier'],
  'reject_unbounded_loop/xdp_repeat_from_packet': ['reject: verifier', 'reject: verifier', 'reject: verifier'],
  'reject_unchecked_read/xdp_reject_unchecked_read': ['reject: verifier', 'reject: verifier', 'reject: verifier'],
  'reject_uninit_stack/xdp_reject_uninit_stack': ['reject: verifier', 'reject: verifier', 'reject: verifier'],
  'rodata_config/xdp_rodata_config': ['offload', 'offload', 'host: atomic map-limit'],
  'rw_kfunc_ct/xdp_ct_filter': ['host: kfunc', 'host: kfunc', 'host: kfunc program-size'],
  'rw_kfunc_ct_mark/xdp_ct_mark': ['host: kfunc pointer-type', 'host: kfunc pointer-type', 'host: kfunc pointer-type program-size'],
  'rw_large_lb/xdp_large_lb': ['host: div map-type mul packet-split stack-offset', 'host: insn-class map-type packet-split stack-offset', 'host: div helper insn-class map-limit map-type mul packet-split program-size stack-offset stack-size'],
  'rw_nfp_verdicts/xdp_dump_head': ['offload', 'host: helper map-type', 'host: helper map-type'],
  'rw_nfp_verdicts/xdp_action_map': ['offload', 'offload', 'offload'],
  'rw_nfp_verdicts/xdp_by_ifindex': ['host: ctx-load', 'host: ctx-load', 'host: atomic ctx-load'],
  'rw_nfp_verdicts/xdp_devmap_mark': ['host: attach', 'host: attach', 'host: attach'],
  'rw_nfp_verdicts/xdp_frags_count': ['host: attach', 'host: attach', 'host: atomic attach'],
  'rw_nfp_verdicts/xdp_cpumap_count': ['host: attach', 'host: attach', 'host: atomic attach'],
  'rw_rodata_config/xdp_configured': ['host: map-limit', 'host: insn-class map-limit', 'host: atomic insn-class map-limit program-size'],
  'subprog_call/xdp_check_ipv4_csum': ['offload', 'host: insn-class', 'host: insn-class program-size'],
  'tail_call/xdp_handle_ipv4': ['offload', 'offload', 'offload'],
  'tail_call/xdp_handle_ipv6': ['offload', 'offload', 'offload'],
  'tail_call/xdp_dispatch': ['host: helper insn-class map-type', 'host: helper insn-class map-type', 'host: helper insn-class map-type'],
  'truncate_tail/xdp_truncate_tail': ['offload', 'offload', 'host: action helper'],
  'rw_static_progs/tail_ipv4': ['offload', 'offload', 'offload'],
  'rw_static_progs/tail_ipv6': ['offload', 'offload', 'offload'],
  'rw_static_progs/tail_other': ['offload', 'offload', 'offload'],
  'rw_static_progs/xdp_tail_entry': ['host: helper insn-class map-type', 'host: helper insn-class map-type', 'host: helper insn-class map-type program-size'],
  'rw_map_in_map_u32/xdp_map_in_map_u32': ['host: map-type', 'host: map-type', 'host: atomic map-type'],
  'rw_xdp_load_bytes/xdp_frags_count': ['host: attach helper', 'host: attach helper', 'host: action attach helper map-limit program-size'],
  'rw_xdp_load_bytes/xdp_grow_tail': ['host: helper', 'host: helper', 'host: action helper program-size'],
  'rw_pmtu_reply/xdp_pmtu_reply': ['host: helper', 'offload', 'host: action helper program-size'],
  'rw_pmtu_reply/xdp_meta_stamp': ['host: ctx-load helper pointer-type', 'host: ctx-load helper pointer-type', 'host: action ctx-load helper pointer-type program-size'],
  'rw_syn_cookie/xdp_syn_cookie': ['host: helper', 'host: helper', 'host: atomic helper program-size stack-size'],
  'rw_tcp_options/xdp_tcp_mss': ['offload', 'host: insn-class', 'host: insn-class program-size'],
  'rw_tcp_options/xdp_tcp_mss_sub': ['offload', 'host: insn-class', 'host: insn-class program-size'],
  'rw_tail_dispatch/xdp_ttl_verdict': ['offload', 'host: insn-class', 'host: insn-class'],
  'rw_tail_dispatch/xdp_dispatch_by_proto': ['host: helper insn-class map-type', 'host: helper insn-class map-type', 'host: helper insn-class map-type'],
  'rw_max_entries_zero/xdp_new_flows': ['host: helper map-type', 'host: helper map-type', 'host: atomic helper map-type program-size'],
  'rw_no_debug_info/xdp_v6_redirect': ['host: helper', 'offload', 'host: helper'],
};
/** Fixture programs `check` cannot judge as they stand, and where their behaviour is tested instead. */
const NOT_IN_TABLE: Readonly<Record<string, string>> = {
  'rw_legacy_sections/xdp_count_proto': 'old section name: check prints a notice on stderr (test/cli/realworld-cli.test.ts)',
  'rw_legacy_sections/xdp_pass_legacy': 'section "prog": needs --type xdp (test/cli/realworld-cli.test.ts)',
  'rw_kfunc_missing/xdp_flowtable': 'the verdict depends on the running kernel\'s BTF (test/object/realworld-load.test.ts, test/verifier/verifier-fixtures.test.ts, test/kernel/kernel-oracle.test.ts)',
};
const PROFILES = ['nfp-4000', 'hxdp', 'minimal'] as const;
const EXIT: Record<string, number> = { offload: 0, host: 3, reject: 2 };

describe('offload check --caps: every fixture on every shipped profile', () => {
  it('the table names every program of every fixture object', () => {
    const all = fixtureObjects().flatMap((path) => loadObjectFile(path).programs.map((p) => `${basename(path, '.o')}/${p.name}`));
    expect(all.filter((k) => !(k in VERDICTS) && !(k in NOT_IN_TABLE))).toEqual([]);
  });
  for (const [key, verdicts] of Object.entries(VERDICTS)) {
    const [file, section] = key.split('/') as [string, string];
    PROFILES.forEach((caps, i) => {
      it(`${key} on ${caps}: ${verdicts[i]}`, async () => {
        const { code, out, err } = await run('check', join(FIXTURE_OBJ, `${file}.o`), '--section', section, '--caps', caps, '--json');
        const doc = JSON.parse(out);
        // An object built without -g has no C lines to give: it says so, once, and how to get them.
        expect(err).toEqual(doc.lineInfo || doc.reasons.length === 0 ? '' : expect.stringMatching(/^offload: hint: .* rebuild with clang -g -O2 -target bpf to see them\n$/));
        const rules = [...new Set((doc.reasons as { rule: string }[]).map((r) => r.rule))].sort().join(' ');
        expect(rules ? `${doc.verdict}: ${rules}` : doc.verdict).toBe(verdicts[i]);
        expect(code).toBe(EXIT[doc.verdict]);
        // Every reason about an instruction names a real C line (never line 0), once per rule.
        const located = (doc.reasons as { rule: string; insn?: number; source?: { line: number } }[]).filter((r) => r.insn !== undefined);
        if (doc.lineInfo) for (const r of located) expect(r.source?.line ?? 0, `${r.rule} at insn ${r.insn}`).toBeGreaterThan(0);
        else expect(located.filter((r) => r.source !== undefined)).toEqual([]);
        const keys = located.map((r) => `${r.insn}/${r.rule}`);
        expect(new Set(keys).size, keys.join(' ')).toBe(keys.length);
        // A resource over its limit always has its reason (a refused program has the verifier's).
        const RULE_OF: Record<string, string> = { stack: 'stack-size', maps: 'map-limit', mapEntries: 'map-limit', programSize: 'program-size' };
        const ruleSet = new Set((doc.reasons as { rule: string }[]).map((r) => r.rule));
        for (const [name, res] of Object.entries(doc.resources as Record<string, { used: number; limit: number }>)) {
          if (res.used > res.limit && doc.verdict !== 'reject') expect(ruleSet.has(RULE_OF[name]!), `${name} ${res.used} > ${res.limit}`).toBe(true);
        }
      });
    });
  }
});

describe('offload check report', () => {
  it('an object built without -g: the reasons name instructions, and a hint says how to get C lines', async () => {
    const file = join(FIXTURE_OBJ, 'rw_no_debug_info.o');
    const text = await run('check', file, '-s', 'xdp_v6_redirect');
    expect(text.code).toBe(3);
    expect(text.out).toMatch(/insn 14 +helper +bpf_redirect \(id 23\) is not available on nfp-4000/);
    expect(text.err).toBe(`offload: hint: ${file}: no line info for xdp_v6_redirect (built without -g, or its .BTF.ext stripped), so no C source lines; rebuild with clang -g -O2 -target bpf to see them\n`);
    // Nothing to tie to a line, nothing to hint; an object with line info never gets it.
    expect((await run('check', file, '-s', 'xdp_v6_redirect', '--caps', 'hxdp')).err).toBe('');
    expect((await run('check', join(FIXTURE_OBJ, 'tail_call.o'), '-s', 'xdp_dispatch')).err).toBe('');
    const dump = await run('dump', file);
    expect(dump.err).toContain('no line info for xdp_v6_redirect (built without -g');
    expect((await run('dump', file, '--no-source')).err).toBe('');
    expect((await run('dump', join(FIXTURE_OBJ, 'basic_actions.o'))).err).toBe('');
  });

  it('colour on a terminal only, and never with NO_COLOR', async () => {
    const on = async (isTTY: boolean) => {
      let out = '';
      await main(['check', join(FIXTURE_OBJ, 'rodata_config.o'), '--caps', 'minimal'], { stdout: { write: (t: string) => (out += t), isTTY }, stderr: { write: () => true } });
      return out;
    };
    // eslint-disable-next-line no-control-regex
    const ansi = /\u001b\[/;
    const saved = process.env.NO_COLOR;
    try {
      delete process.env.NO_COLOR;
      expect(await on(true)).toMatch(ansi);
      expect(await on(false)).not.toMatch(ansi);
      process.env.NO_COLOR = '1';
      expect(await on(true)).not.toMatch(ansi);
    } finally {
      if (saved === undefined) delete process.env.NO_COLOR;
      else process.env.NO_COLOR = saved;
    }
  });

  it('the rule column stays aligned when a place is wider than usual', async () => {
    const text = (await run('check', join(FIXTURE_OBJ, 'rw_large_lb.o'))).out;
    const doc = JSON.parse((await run('check', join(FIXTURE_OBJ, 'rw_large_lb.o'), '--json')).out);
    const heads = text.split('\n').filter((l) => /^  (insn \d+ |program {3,})/.test(l));
    expect(heads.length).toBe(doc.reasons.length);
    const columns = heads.map((l, i) => l.indexOf(` ${doc.reasons[i].rule} `) + 1);
    expect(Math.min(...columns)).toBeGreaterThan(29);
    expect(new Set(columns).size).toBe(1);
  });

  it('a merged bpf_tail_call (line 0 in line_info) is tied to the closest real C line, unprivileged too', async () => {
    for (const extra of [[], ['--unprivileged']]) {
      const { out } = await run('check', join(FIXTURE_OBJ, 'tail_call.o'), '--section', 'xdp_dispatch', '--json', ...extra);
      const tail = (JSON.parse(out).reasons as { insn?: number; source?: { line: number; text: string } }[]).filter((r) => r.insn !== undefined);
      expect(tail.length).toBeGreaterThan(0);
      for (const r of tail) expect(r.source!.line).toBeGreaterThan(0);
    }
  });

  it('text: the verdict, each reason with instruction, C line and suggestion, and the resources', async () => {
    const { code, out } = await run('check', join(FIXTURE_OBJ, 'proto_count_percpu.o'));
    expect(code).toBe(3);
    expect(out).toContain('on nfp-4000 (NFP-4000)');
    expect(out).toContain('verdict: host — safe, but nfp-4000 cannot run it: it will run on the host CPU');
    expect(out).toMatch(/map-type\s+map '\w+': PERCPU_ARRAY is not offloadable on nfp-4000\n\s+suggestion: use ARRAY/);
    expect(out).toMatch(/stack\s+\d+ \/ 512\s+bytes/);
    expect(out).toMatch(/program size\s+\d+ \/ 8192\s+card insns\s+\(the JIT's count for \d+ eBPF instructions, the prefetch pad included\)/);
    const fib = await run('check', join(FIXTURE_OBJ, 'fib_lookup.o'));
    expect(fib.out).toMatch(/insn \d+ \(fib_lookup\.c:\d+\)\s+helper\s+bpf_fib_lookup \(id 69\) is not available on nfp-4000\n\s+call bpf_fib_lookup#69\n\s+; rc = bpf_fib_lookup\(ctx, &fib, sizeof\(fib\), 0\);/);
  });

  it('JSON: verdict, reasons and resources', async () => {
    const { code, out } = await run('check', join(FIXTURE_OBJ, 'reject_unchecked_read.o'), '--caps', 'hxdp', '--json');
    expect(code).toBe(2);
    const doc = JSON.parse(out);
    expect(doc).toMatchObject({ verdict: 'reject', caps: 'hxdp', reasons: [{ rule: 'verifier', insn: 1, message: expect.stringContaining('invalid access to packet') }] });
    expect(Object.keys(doc.resources).sort()).toEqual(['mapEntries', 'maps', 'programSize', 'stack']);
  });

  it('--caps takes a file; a bad profile or name is a usage error with the JSON path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'caps-'));
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ ...resolveProfile('minimal').profile, name: 'mine' }));
    expect((await run('check', join(FIXTURE_OBJ, 'basic_actions.o'), '-s', 'xdp_drop_all', '--caps', good)).code).toBe(0);
    const bad = join(dir, 'bad.json');
    const doc = structuredClone(resolveProfile('nfp-4000').profile) as unknown as Record<string, Record<string, unknown>>;
    delete doc.maps!.maxMaps;
    doc.stack!.bytes = -64;
    (doc as Record<string, unknown>).maxInsns = 'many';
    (doc.helpers as unknown as { id: number; name: string }[])[0]!.name = 'bpf_map_lookup';
    writeFileSync(bad, JSON.stringify(doc));
    const r = await run('check', join(FIXTURE_OBJ, 'basic_actions.o'), '--caps', bad);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${bad}: not a valid card profile:`);
    expect(r.err).toContain("$.maps: missing field 'maxMaps'");
    expect(r.err).toContain('$.stack.bytes: must be >= 0');
    expect(r.err).toContain('$.maxInsns: must be integer');
    expect(r.err).not.toMatch(/\n\s+at /);
    writeFileSync(bad, JSON.stringify({ ...resolveProfile('nfp-4000').profile, helpers: [{ id: 1, name: 'bpf_map_lookup' }] }));
    expect((await run('caps', 'show', bad)).err).toContain("$.helpers[0].name: 'bpf_map_lookup' is not a helper name; helper 1 is 'bpf_map_lookup_elem'");
    writeFileSync(bad, JSON.stringify({ ...resolveProfile('minimal').profile, helpers: [{ id: 1, name: 'bpf_map_lookup_elem', flags: 0 }] }));
    expect((await run('caps', 'show', bad)).err).toContain('$.helpers[0].flags: helper 1 takes no flags argument');
    writeFileSync(bad, '{ "name": ');
    expect((await run('caps', 'show', bad)).err).toMatch(/bad\.json, line 1, column 11: not JSON: expected a value, found end of text/);
    const unknown = await run('check', join(FIXTURE_OBJ, 'basic_actions.o'), '--caps', 'nfp-9000');
    expect(unknown).toMatchObject({ code: 1, err: 'offload: nfp-9000: no such profile or file (shipped profiles: hxdp, minimal, nfp-4000)\n' });
  });
});

describe('offload caps', () => {
  it('list, show and diff the shipped profiles', async () => {
    const list = await run('caps', 'list');
    expect(list.out.split('\n').filter(Boolean).map((l) => l.split(/\s+/)[0])).toEqual(['name', 'hxdp', 'minimal', 'nfp-4000']);
    const show = await run('caps', 'show', 'nfp-4000');
    expect(show.out).toContain('60 cores × 8 threads at 800 MHz');
    expect(JSON.parse((await run('caps', 'show', 'hxdp', '--json')).out)).toEqual(resolveProfile('hxdp').profile);
    const diff = await run('caps', 'diff', 'nfp-4000', 'hxdp');
    expect(diff.out).toMatch(/^\d+ differences \(nfp-4000 → hxdp\):/);
    expect(diff.out).toMatch(/\$\.isa\.wordBits\s+32 → 64/);
    expect((await run('caps', 'diff', 'minimal', 'minimal'))).toEqual({ code: 0, out: 'minimal and minimal do not differ\n', err: '' });
  });

  it('diff: helpers as records by name in id order, numbers as numbers, exit 1 when different and 2 on trouble (as diff does)', async () => {
    const diff = await run('caps', 'diff', 'nfp-4000', 'hxdp');
    expect(diff.code).toBe(1);
    const lines = diff.out.split('\n');
    // A helper only one card has is one difference, named, not a shifted index.
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}\$\.helpers\[bpf_redirect\]\s+\(absent\) → \{"id":23,"name":"bpf_redirect"\}$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}\$\.helpers\[bpf_map_lookup_elem\]\.address\s+12288 → \(absent\)$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}\$\.actions\s+\[aborted, drop, pass, tx\] → \[aborted, drop, pass, tx, redirect\]\s+\(\+redirect\)$/));
    expect(diff.out).not.toMatch(/\$\.helpers\[\d+\]/);
    const ids = lines.map((l) => /\$\.helpers\[(\w+)\]/.exec(l)?.[1]).filter((n): n is string => n !== undefined)
      .map((n) => resolveProfile('nfp-4000').profile.helpers.concat(resolveProfile('hxdp').profile.helpers).find((h) => h.name === n)!.id);
    expect(ids.length).toBeGreaterThan(4);
    expect(ids).toEqual([...ids].sort((x, y) => x - y));

    const json = await run('caps', 'diff', 'nfp-4000', 'hxdp', '--json');
    expect(json.code).toBe(1);
    const doc = JSON.parse(json.out);
    expect(doc).toMatchObject({ a: 'nfp-4000', b: 'hxdp', same: false });
    expect(doc.differences).toContainEqual({ path: '$.isa.wordBits', change: 'changed', a: 32, b: 64 });
    expect(doc.differences).toContainEqual({ path: '$.timing.cores', change: 'changed', a: 60, b: 1 });
    expect(doc.differences).toContainEqual({ path: '$.helpers[bpf_csum_diff]', change: 'added', b: { id: 28, name: 'bpf_csum_diff' } });
    expect(doc.differences).toContainEqual({ path: '$.helpers[bpf_perf_event_output]', change: 'removed', a: { id: 25, name: 'bpf_perf_event_output', flags: 4294967295, address: 12480 } });
    expect(doc.differences).toContainEqual({ path: '$.actions', change: 'changed', a: ['aborted', 'drop', 'pass', 'tx'], b: ['aborted', 'drop', 'pass', 'tx', 'redirect'] });
    expect(JSON.parse((await run('caps', 'diff', 'hxdp', 'hxdp', '--json')).out)).toEqual({ a: 'hxdp', b: 'hxdp', same: true, differences: [] });

    // One field changed in a copy: exactly that difference.
    const dir = mkdtempSync(join(tmpdir(), 'capsdiff-'));
    const edited = structuredClone(resolveProfile('nfp-4000').profile) as unknown as { timing: { memories: { name: string; latencyCycles: number }[] } };
    edited.timing.memories.find((m) => m.name === 'ctm')!.latencyCycles = 90;
    writeFileSync(join(dir, 'slow.json'), JSON.stringify(edited));
    expect(JSON.parse((await run('caps', 'diff', 'nfp-4000', join(dir, 'slow.json'), '--json')).out).differences)
      .toEqual([{ path: '$.timing.memories[ctm].latencyCycles', change: 'changed', a: 70, b: 90 }]);

    const trouble = await run('caps', 'diff', 'nfp-4000', join(dir, 'missing.json'));
    expect(trouble).toMatchObject({ code: 2, out: '' });
    expect(trouble.err).toContain('missing.json: no such profile or file');
    expect((await run('caps', 'diff', 'nfp-4000')).code).toBe(2);
  });

  it('list --json: one summary per shipped profile, numbers as numbers', async () => {
    const { code, out } = await run('caps', 'list', '--json');
    expect(code).toBe(0);
    const doc = JSON.parse(out) as { name: string; cores: number; helpers: string[]; maxInsns: number }[];
    expect(doc.map((p) => p.name)).toEqual(['hxdp', 'minimal', 'nfp-4000']);
    const nfp = doc.find((p) => p.name === 'nfp-4000')!;
    const profile = resolveProfile('nfp-4000').profile;
    expect(nfp).toMatchObject({ model: 'NFP-4000', wordBits: 32, cores: 60, threadsPerCore: 8, clockKHz: 800000, stackBytes: 512, maxInsns: 8192, mapTypes: ['ARRAY', 'HASH'] });
    expect(nfp.helpers).toEqual(profile.helpers.map((h) => h.name));
  });

  it('a bad profile file: syntax and schema errors with line and column', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'capsjson-'));
    const file = join(dir, 'card.json');
    writeFileSync(file, '{\n  "name": "x",\n  "maps": [1,]\n}\n');
    expect(await run('caps', 'show', file)).toMatchObject({ code: 1, err: `offload: ${file}, line 3, column 14: not JSON: expected a value, found ']'\n` });
    const doc = structuredClone(resolveProfile('nfp-4000').profile) as unknown as Record<string, Record<string, unknown>>;
    doc.stack!.bytes = -64;
    const text = JSON.stringify(doc, null, 2);
    writeFileSync(file, text);
    const lines = text.split('\n');
    const line = lines.findIndex((l) => l.includes('"bytes": -64')) + 1;
    const column = lines[line - 1]!.indexOf('-64') + 1;
    const r = await run('check', join(FIXTURE_OBJ, 'basic_actions.o'), '--caps', file);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`  line ${line}, column ${column}: $.stack.bytes: must be >= 0`);
  });

  it('read a card back: profile → capability area → profile, and a damaged area by offset', async () => {
    for (const name of ['nfp-4000', 'hxdp', 'minimal']) {
      const { code, out, err } = await run('caps', 'read', '--card', name, '--json');
      expect([code, err]).toEqual([0, '']);
      expect(JSON.parse(out)).toEqual(resolveProfile(name).profile);
    }
    const dir = mkdtempSync(join(tmpdir(), 'area-'));
    const tlv = join(dir, 'a.tlv');
    const bar = join(dir, 'a.bar');
    expect((await run('caps', 'write', 'nfp-4000', '--tlv', tlv, '--bar', bar)).code).toBe(0);
    const area = readFileSync(tlv);
    writeFileSync(tlv, area.subarray(0, area.length - 3));
    const cut = await run('caps', 'read', '--tlv', tlv, '--bar', bar);
    expect(cut.code).toBe(1);
    expect(cut.err).toMatch(/a\.tlv, offset 0x[0-9a-f]+: /);
    writeFileSync(tlv, Buffer.concat([area, Buffer.from([0x63, 0, 0, 0, 0, 0, 0, 0])]));
    const unknown = await run('caps', 'read', '--tlv', tlv, '--bar', bar, '--json');
    expect(unknown.code).toBe(0);
    expect(unknown.err).toMatch(/warning: .*unknown capability type 0x63 at offset 0x[0-9a-f]+/);
    expect((await run('caps', 'read')).err).toContain('caps read needs --card NAME, or --tlv FILE and --bar FILE');
  });
});
