import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../offload/cli/main.js';
import { openCapture } from '../../xdp/pcap/capture.js';
import { kernelAvailable } from '../../xdp/kernel/kernel-oracle.js';
import { FIXTURE_OBJ, REPO, hasCommand } from '../support/paths.js';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

const obj = (n: string) => join(FIXTURE_OBJ, `${n}.o`);
const pcap = (n: string) => join(REPO, 'fixtures', 'pcap', `${n}.pcap`);
const countPackets = (file: string) => [...openCapture(file)].length;
const kernelState = kernelAvailable();
const kernelUsable = kernelState.ok && kernelState.privileged;

describe('offload run', () => {
  it('--json: packets = actions + skipped, target host, per-action pcaps and a trace line per packet', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'run-'));
    const r = await run('run', obj('parse_l3'), '--engine', 'host', '--pcap', pcap('mixed'), '--json', '--out', join(dir, 'out'), '--trace', join(dir, 'trace.jsonl'), '--no-progress');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out);
    expect(s.target).toBe('host');
    expect(s.engine).toBe('compiled');
    const ran = Object.values(s.actions as Record<string, number>).reduce((a, b) => a + b, 0);
    expect(ran + s.skipped).toBe(s.packets);
    expect(s.packets).toBe(346);
    expect(s.skippedByReason).toEqual({ 'shorter than an Ethernet header': 2 });
    expect(s.actions.XDP_DROP).toBeGreaterThan(0);
    expect(countPackets(join(dir, 'out', 'drop.pcap'))).toBe(s.actions.XDP_DROP);
    expect(countPackets(join(dir, 'out', 'pass.pcap'))).toBe(s.actions.XDP_PASS);
    const trace = readFileSync(join(dir, 'trace.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(trace).toHaveLength(ran);
    expect(trace[0]).toMatchObject({ i: 0, action: expect.stringMatching(/^XDP_/), len: expect.any(Number), in_len: expect.any(Number) });
  });

  it('the interpreter gives the same summary as the compiled engine', async () => {
    const a = JSON.parse((await run('run', obj('ipv6_ext_walk'), '--pcap', pcap('ipv6-ext'), '--json')).out);
    const b = JSON.parse((await run('run', obj('ipv6_ext_walk'), '--pcap', pcap('ipv6-ext'), '--json', '--engine', 'interp')).out);
    expect(b.engine).toBe('interp');
    expect(b.actions).toEqual(a.actions);
    expect(b.maps).toEqual(a.maps);
  });

  it('packets leave as the program left them: mac_swap_tx swaps the addresses', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'run-'));
    await run('run', obj('mac_swap_tx'), '--pcap', pcap('mixed'), '--out', dir);
    const inPkts = [...openCapture(pcap('mixed'), { copy: true })].filter((r) => r.capLen >= 14);
    const outPkts = [...openCapture(join(dir, 'tx.pcap'), { copy: true })];
    expect(outPkts).toHaveLength(inPkts.length);
    const i = inPkts[0]!.data;
    const o = outPkts[0]!.data;
    expect(Array.from(o.subarray(0, 6))).toEqual(Array.from(i.subarray(6, 12)));
    expect(Array.from(o.subarray(6, 12))).toEqual(Array.from(i.subarray(0, 6)));
  });

  it('--maps-out then --maps-in carries map contents from one replay into the next', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'run-'));
    const first = JSON.parse((await run('run', obj('proto_count_array'), '--pcap', pcap('mixed'), '--json', '--maps-out', join(dir, 'm.json'))).out);
    const second = JSON.parse((await run('run', obj('proto_count_array'), '--pcap', pcap('mixed'), '--json', '--maps-in', join(dir, 'm.json'))).out);
    const udp = (doc: { maps: { entries: { key: number; value: { packets: number } }[] }[] }) =>
      doc.maps[0]!.entries.find((e) => e.key === 17)!.value.packets;
    expect(udp(first)).toBeGreaterThan(0);
    expect(udp(second)).toBe(2 * udp(first));
  });

  it('bpf_fib_lookup answers from the --routes table', async () => {
    // xdp_fib_forward needs a route table; without one bpf_fib_lookup says NOT_FWDED and the packet passes.
    const r = JSON.parse((await run('run', obj('fib_lookup'), '--pcap', pcap('mixed'), '--json')).out);
    expect(r.abortReasons).toEqual({});
    const dir = mkdtempSync(join(tmpdir(), 'run-'));
    writeFileSync(join(dir, 'routes.json'), JSON.stringify({
      interfaces: [{ ifindex: 2, mac: '02:00:00:00:00:02' }],
      routes: [{ prefix: '0.0.0.0/0', ifindex: 2, gateway: '10.0.0.1' }],
      neighbors: [{ ip: '10.0.0.1', mac: '02:00:00:00:00:01' }],
    }));
    const routed = JSON.parse((await run('run', obj('fib_lookup'), '--pcap', pcap('mixed'), '--json', '--routes', join(dir, 'routes.json'))).out);
    expect(routed.actions.XDP_REDIRECT).toBeGreaterThan(0);
    expect(Object.keys(routed.redirects)).toEqual(['ifindex 2']);
  });

  it('a program that loops without end is stopped per packet by the budget, counted as aborted with the reason', async () => {
    const r = JSON.parse((await run('run', obj('reject_unbounded_loop'), '--section', 'xdp_repeat_from_packet', '--budget', '10000', '--no-verify',
      '--engine', 'host', '--pcap', pcap('mixed'), '--json')).out);
    expect(r.actions.XDP_ABORTED).toBeGreaterThan(300);
    const [reason, count] = Object.entries(r.abortReasons as Record<string, number>)[0]!;
    expect(reason).toMatch(/insn \d+: instruction budget of 10000 exhausted/);
    expect(count).toBe(r.actions.XDP_ABORTED);
  });

  it('a program the verifier refuses is refused as the kernel would (exit 2); --no-verify runs it and says so', async () => {
    for (const engine of ['host', 'interp']) {
      const r = await run('run', obj('reject_unchecked_read'), '--pcap', pcap('mixed'), '--engine', engine, '--json');
      expect([r.code, r.out]).toEqual([2, '']);
      expect(r.err).toBe(`offload: ${obj('reject_unchecked_read')}: the verifier refuses xdp_reject_unchecked_read at insn 1: invalid access to packet, off=12 size=1, R1(id=0,off=12,r=0) / R1 offset is outside of the packet (the kernel would not load it; --no-verify runs it anyway)\n`);
    }
    const onCard = await run('run', obj('reject_unchecked_read'), '--pcap', pcap('mixed'), '--json', '--no-verify');
    expect([onCard.code, onCard.out]).toEqual([2, '']);
    expect(onCard.err).toMatch(/the verifier refuses xdp_reject_unchecked_read at insn 1: .* \(the kernel would not load it, on the card or on the host; --no-verify runs it on the host engines only\)\n$/);
    const anyway = await run('run', obj('reject_unchecked_read'), '--engine', 'host', '--pcap', pcap('mixed'), '--json', '--no-verify');
    expect(anyway.code).toBe(0);
    expect(anyway.err).toMatch(/^offload: warning: --no-verify: the verifier refuses xdp_reject_unchecked_read at insn 1: .*; running it anyway\n$/);
    expect(JSON.parse(anyway.out).packets).toBeGreaterThan(300);
  });

  it('the budget stops both host engines at the same instruction, with the same effects', async () => {
    const reasons = await Promise.all(['host', 'interp'].map(async (engine) => {
      const r = JSON.parse((await run('run', obj('reject_unbounded_loop'), '--section', 'xdp_repeat_from_packet', '--budget', '10000', '--no-verify',
        '--pcap', pcap('mixed'), '--json', '--engine', engine)).out);
      return [r.abortReasons, r.maps];
    }));
    expect(Object.keys(reasons[0]![0])).toEqual([expect.stringMatching(/insn \d+: instruction budget of 10000 exhausted/)]);
    expect(reasons[1]).toEqual(reasons[0]);
  });

  it.skipIf(!kernelUsable)('options only the host engines honour are refused under --engine kernel, each with why', async () => {
    const cases: [string[], RegExp][] = [
      [['--budget', '5'], /^offload: --budget: the kernel runs only programs its verifier proved to end/],
      [['--routes', 'r.json'], /^offload: --routes: the kernel's bpf_fib_lookup answers from this machine's own routing tables/],
      [['--trace-printk', join(tmpdir(), 'tp.txt')], /^offload: --trace-printk: the kernel writes bpf_trace_printk lines to its trace buffer/],
      [['--seed', '3'], /^offload: --seed: the kernel's bpf_get_prandom_u32 is not seeded from user space/],
    ];
    for (const [args, err] of cases) {
      const r = await run('run', obj('basic_actions'), '--section', 'xdp_pass_all', '--pcap', pcap('mixed'), '--engine', 'kernel', '--no-progress', ...args);
      expect(r.code, args[0]).toBe(1);
      expect(r.err, args[0]).toMatch(err);
    }
    const redirect = JSON.parse((await run('run', obj('redirect_devmap'), '--pcap', pcap('mixed'), '--engine', 'kernel', '--no-progress', '--json')).out);
    expect(redirect.redirectTargetsKnown).toBe(false);
  });

  it('the summary comes first; the maps follow only with --maps; --json keeps them in one array under "maps"', async () => {
    const plain = await run('run', obj('proto_count_array'), '--engine', 'host', '--pcap', pcap('mixed'), '--no-progress');
    expect(plain.out).not.toContain('maps at the end');
    expect(plain.out.trim().split('\n').at(-1)).toMatch(/^  \d+ packets in [\d.]+ ms of this machine's time \(\d+ packets\/s\)$/);
    const withMaps = await run('run', obj('proto_count_array'), '--pcap', pcap('mixed'), '--no-progress', '--maps');
    expect(withMaps.out.indexOf('maps at the end:')).toBeGreaterThan(withMaps.out.indexOf('packets in'));
    const doc = JSON.parse((await run('run', obj('proto_count_array'), '--pcap', pcap('mixed'), '--json')).out);
    expect(Array.isArray(doc.maps)).toBe(true);
    expect(doc.maps.map((m: { name: string }) => m.name)).toEqual(['proto_stats']);
  });

  it('progress on a terminal: how far into the capture, the time left, packets and rate; none when piped, with --json or --no-progress', async () => {
    const onTerminal = async (...extra: string[]) => {
      let err = '';
      const code = await main(['run', obj('parse_l3'), '--pcap', pcap('mixed'), ...extra], {
        stdout: { write: () => true }, stderr: { write: (t: string) => (err += t), isTTY: true },
      });
      return { code, err };
    };
    const tty = await onTerminal();
    expect(tty.code).toBe(0);
    expect(tty.err).toMatch(/replay \[[█░]+\] 0% \| ETA \S+ \| 0 packets, 0 pkt\/s/);
    expect(tty.err).toMatch(/replay \[█+\] 100% \| ETA 0s \| 344 packets, \d+ pkt\/s/);
    expect((await onTerminal('--no-progress')).err).toBe('');
    expect((await onTerminal('--json')).err).toBe('');
    expect((await run('run', obj('parse_l3'), '--pcap', pcap('mixed'))).err).toBe('');
  });

  it('the replay reports how far into the file it has read, ending at the file size', async () => {
    const { replayCapture } = await import('../../xdp/replay/replay.js');
    const { XdpMachine } = await import('../../xdp/runtime/xdp-machine.js');
    const { loadObjectFile, selectProgram } = await import('../../xdp/object/load-object.js');
    const o = loadObjectFile(obj('parse_l3'));
    const machine = new XdpMachine(o, selectProgram(o), { engine: 'compiled', cpus: 1 });
    const seen: [number, number, number][] = [];
    replayCapture(machine, { capture: pcap('mixed'), progressEvery: 50, onProgress: (n, at, size) => seen.push([n, at, size]) });
    const size = readFileSync(pcap('mixed')).length;
    expect(seen.length).toBeGreaterThan(5);
    expect(seen.at(-1)).toEqual([344, size, size]);
    for (let i = 1; i < seen.length; i++) {
      expect(seen[i]![0]).toBeGreaterThanOrEqual(seen[i - 1]![0]);
      expect(seen[i]![1]).toBeGreaterThanOrEqual(seen[i - 1]![1]);
    }
    // Before the end, the position is inside the file, not at 0 or at its end.
    expect(seen[0]![1]).toBeGreaterThan(24);
    expect(seen[0]![1]).toBeLessThan(size);
  });

  it('a capture cut inside its last record: a warning on stderr naming the file and offset, the summary kept', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'run-'));
    const whole = readFileSync(pcap('mixed'));
    const cut = join(dir, 'cut.pcap');
    writeFileSync(cut, whole.subarray(0, whole.length - 10));
    const text = await run('run', obj('parse_l3'), '--pcap', cut);
    expect(text.code).toBe(0);
    expect(text.out).toContain('skipped: capture: truncated: 1');
    expect(text.err).toMatch(new RegExp(`^offload: warning: ${cut.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: the file ends inside a record at offset 0x[0-9a-f]+ \\(\\d+ of its \\d+ bytes\\): it was cut short .*that packet is not replayed\n$`));
    const json = await run('run', obj('parse_l3'), '--pcap', cut, '--json');
    expect(JSON.parse(json.out).captureWarning).toMatch(/^the file ends inside a record at offset/);
    expect(json.err).toContain('offload: warning:');
    expect((await run('run', obj('parse_l3'), '--pcap', pcap('mixed'))).err).toBe('');
  });

  it('--version: the version, Node.js and the kernel', async () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { name: string; version: string };
    for (const flag of ['--version', '-V']) {
      const r = await run(flag);
      expect(r.code).toBe(0);
      expect(r.out.split('\n')).toEqual([`offload ${pkg.version} (${pkg.name})`, `node ${process.version}`, expect.stringMatching(/^kernel \S+$/), '']);
    }
  });

  it('bad input: one line, exit 1, naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'run-'));
    const junk = join(dir, 'junk.pcap');
    writeFileSync(junk, 'not a capture at all, just text that is long enough');
    const badCap = await run('run', obj('basic_actions'), '--section', 'xdp_drop_all', '--pcap', junk);
    expect(badCap.code).toBe(1);
    expect(badCap.err).toMatch(new RegExp(`^offload: ${junk.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*not a (pcap|capture)`));
    const noFile = await run('run', obj('basic_actions'), '--section', 'xdp_drop_all', '--pcap', join(dir, 'missing.pcap'));
    expect(noFile.code).toBe(1);
    expect(noFile.err).toMatch(/missing\.pcap/);
    expect((await run('run', obj('basic_actions'), '--pcap', pcap('mixed'), '--engine', 'fast')).err).toMatch(/--engine expects host, interp or kernel/);
    expect((await run('run', obj('basic_actions'), '--section', 'xdp_drop_all', '--pcap', pcap('mixed'), '--cpus', '0')).err).toMatch(/--cpus expects an integer/);
    expect((await run('run', obj('basic_actions'), '--pcap', pcap('mixed'))).err).toMatch(/holds 5 XDP programs|choose one with --section/);
    const badRoutes = join(dir, 'routes.json');
    writeFileSync(badRoutes, '{"routes": [{"prefix": "10.0.0.0/99", "ifindex": 1}]}');
    expect((await run('run', obj('fib_lookup'), '--pcap', pcap('mixed'), '--routes', badRoutes)).err).toMatch(/routes\.json, \$\.routes\[0\]\.prefix: expected a prefix/);
  });
});

// Without privileges --engine kernel must say why and exit non-zero (setpriv drops them for one run).
const DROP = ['--inh-caps=-all', '--bounding-set=-all', '--reuid=65534', '--regid=65534', '--clear-groups'];
const CAN_DROP = process.getuid?.() === 0 && hasCommand('setpriv') &&
  spawnSync('setpriv', [...DROP, process.execPath, '-e', `require('fs').accessSync(${JSON.stringify(join(REPO, 'dist', 'offload', 'cli', 'main.js'))})`]).status === 0;
if (!CAN_DROP) console.log('SKIP --engine kernel without privileges: needs root, setpriv, and a checkout the nobody user can read');

describe.runIf(CAN_DROP)('offload run --engine kernel without privileges', () => {
  it('explains what is missing and exits 1', () => {
    const r = spawnSync('setpriv', [...DROP, process.execPath, join(REPO, 'bin', 'offload.js'), 'run', obj('proto_count_array'), '--pcap', pcap('mixed'), '--engine', 'kernel'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^offload: --engine kernel needs the running kernel's bpf\(\): .*CAP_BPF/);
  });
});
