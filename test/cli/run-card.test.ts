/**
 * `offload run` on the simulated card: the decision first (offload, host fallback,
 * reject), then the replay with its figures; every packet read accounted for, the same
 * inputs giving the same outputs, bad input refused with one clear line.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LINKTYPE_ETHERNET, openPcapFile } from '../../xdp/pcap/pcap-writer.js';
import { udpFrame } from '../../scripts/lib/udp-frames.js';
import { runCli } from '../support/cli.js';
import { FIXTURE_OBJ, REPO } from '../support/paths.js';

const run = runCli;

const obj = (n: string) => join(FIXTURE_OBJ, `${n}.o`);
const pcap = (n: string) => join(REPO, 'fixtures', 'pcap', `${n}.pcap`);
const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);

describe('offload run on the card', () => {
  it('an offloadable program runs on nfp-4000 by default: actions, figures, maps', async () => {
    const r = await run('run', obj('proto_count_array'), '--pcap', pcap('mixed'), '--json');
    expect([r.code, r.err]).toEqual([0, '']);
    const s = JSON.parse(r.out);
    expect(s).toMatchObject({ target: 'nic', engine: 'card', packets: 346, dropped: {} });
    expect(sum(s.actions) + sum(s.dropped) + s.skipped).toBe(s.packets);
    expect(s.throughput_mpps).toBeGreaterThan(0);
    expect(typeof s.bottleneck).toBe('string');
    expect(s.latency_ns.p50).toBeGreaterThan(0);
    expect(s.latency_ns.p50).toBeLessThanOrEqual(s.latency_ns.p99);
    expect(s.latency_ns.p99).toBeLessThanOrEqual(s.latency_ns.max);
    expect(s.cycles_per_packet.mean).toBeGreaterThan(0);
    expect(s.cycles_per_packet.mean).toBeLessThanOrEqual(s.cycles_per_packet.p99 * 1.02);
    expect(s.card).toMatchObject({ caps: 'nfp-4000', engines: 60, threads: 8, clock_mhz: 800 });
    expect(s.card.utilisation.engines).toHaveLength(60);
    // Control messages: MAP_ALLOC before the run; after it, a walk of the 256-entry array 16
    // entries a message (GETFIRST, 15 GETNEXT, the GETNEXT that finds no more) and MAP_FREE.
    expect(s.card.control_messages).toBe(1 + 17 + 1);
    expect(s.card.control_ns).toBe(19 * 10_000);
    // The same maps as the host engine's.
    const host = JSON.parse((await run('run', obj('proto_count_array'), '--pcap', pcap('mixed'), '--json', '--engine', 'host')).out);
    expect(s.maps).toEqual(host.maps);
    expect(s.actions).toEqual(host.actions);
  });

  it('the text summary says where it ran and what limits it', async () => {
    const r = await run('run', obj('mac_swap_tx'), '--pcap', pcap('mixed'), '--no-progress');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/on the card nfp-4000 \(60 engines × 8 threads at 800 MHz\), offered at 40 Gb\/s/);
    expect(r.out).toMatch(/sustainable: [\d.]+ Mpps \(bottleneck: \S+/);
    expect(r.out).toMatch(/64-byte frames: [\d.]+ Mpps/);
    expect(r.out).toMatch(/latency: p50 [\d.]+ (ns|µs), p99 [\d.]+ (ns|µs), max [\d.]+ (ns|µs); cycles per packet: mean [\d.]+/);
  });

  it('a program the card cannot run falls back to the host CPU, saying why', async () => {
    const r = await run('run', obj('fib_lookup'), '--pcap', pcap('mixed'), '--json');
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/^offload: not offloadable on nfp-4000: .*bpf_fib_lookup.*; running on the host CPU\n$/);
    const s = JSON.parse(r.out);
    expect(s.target).toBe('host');
    expect(s.fallback.caps).toBe('nfp-4000');
    expect(s.fallback.reasons.length).toBeGreaterThan(0);
    expect(s.throughput_mpps).toBeGreaterThan(0);
    expect(['host cpu', 'pcie']).toContain(s.bottleneck);
    expect(s.latency_ns.p50).toBeGreaterThan(0);
    const host = JSON.parse((await run('run', obj('fib_lookup'), '--pcap', pcap('mixed'), '--json', '--engine', 'host')).out);
    expect(s.actions).toEqual(host.actions);
  });

  it('a program with many reasons to stay on the host: the first three on stderr, all of them in --json', async () => {
    const r = await run('run', obj('rw_large_lb'), '--pcap', pcap('mixed'), '--json');
    expect(r.code).toBe(0);
    const shown = /^offload: not offloadable on nfp-4000: (.*); and (\d+) more \(offload check \S+rw_large_lb\.o lists them\); running on the host CPU\n$/.exec(r.err);
    expect(shown, r.err).not.toBeNull();
    expect(shown![1]!.split('; ')).toHaveLength(3);
    const s = JSON.parse(r.out);
    expect(s.fallback.reasons.length).toBeGreaterThanOrEqual(3 + Number(shown![2]));
  });

  it('an offered load far above capacity: every packet read is run, dropped for a full queue, or skipped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'run-card-'));
    // A small card (2 engines of 2 threads, queues of 4) given a capture at 1000 Mpps.
    const small = JSON.parse(readFileSync(join(REPO, 'caps', 'profiles', 'nfp-4000.json'), 'utf8'));
    small.name = 'nfp-small';
    Object.assign(small.timing, { cores: 2, threadsPerCore: 2, ingressQueue: 4 });
    writeFileSync(join(dir, 'small.json'), JSON.stringify(small));
    const r = await run('run', obj('proto_count_array'), '--pcap', pcap('mixed'), '--caps', join(dir, 'small.json'), '--rate', '1000', '--json', '--trace', join(dir, 't.jsonl'));
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out);
    expect(s.dropped.ingress_overflow).toBeGreaterThan(0);
    expect(sum(s.actions) + s.dropped.ingress_overflow + s.skipped).toBe(s.packets);
    const lines = readFileSync(join(dir, 't.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(s.packets - s.skipped);
    expect(lines.map((l) => l.i)).toEqual([...lines.map((l) => l.i)].sort((a, b) => a - b));
    expect(lines.filter((l) => l.dropped === 'ingress_overflow')).toHaveLength(s.dropped.ingress_overflow);
    const ran = lines.find((l) => l.action !== undefined);
    expect(ran).toMatchObject({ engine: expect.any(Number), thread: expect.any(Number), cycles: expect.any(Number), latency_ns: expect.any(Number) });
    expect(s.card.taken_mpps).toBeLessThan(s.card.offered_mpps);
    // The same on two worker threads, the full-queue drops included.
    const r2 = await run('run', obj('proto_count_array'), '--pcap', pcap('mixed'), '--caps', join(dir, 'small.json'), '--rate', '1000', '--json', '--trace', join(dir, 't2.jsonl'), '--workers', '2');
    const s2 = JSON.parse(r2.out);
    expect(s2.card.workers).toBe(2);
    for (const x of [s, s2]) {
      for (const k of ['elapsedMs', 'packetsPerSecond']) delete x[k];
      delete x.card.workers;
    }
    expect(s2).toEqual(s);
    expect(readFileSync(join(dir, 't2.jsonl'), 'utf8')).toBe(readFileSync(join(dir, 't.jsonl'), 'utf8'));
  });

  it('the same inputs give byte-identical outputs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'run-card-'));
    const once = async (k: number) => {
      const r = await run('run', obj('firewall_5tuple'), '--pcap', pcap('firewall'), '--json', '--trace', join(dir, `t${k}.jsonl`), '--out', join(dir, `o${k}`));
      const s = JSON.parse(r.out);
      delete s.elapsedMs;
      delete s.packetsPerSecond;
      return s;
    };
    expect(await once(1)).toEqual(await once(2));
    expect(readFileSync(join(dir, 't1.jsonl'), 'utf8')).toBe(readFileSync(join(dir, 't2.jsonl'), 'utf8'));
    for (const f of ['drop.pcap', 'pass.pcap', 'tx.pcap']) expect(readFileSync(join(dir, 'o1', f)).equals(readFileSync(join(dir, 'o2', f)))).toBe(true);
  });

  it('--workers 2 shards the packets by RSS queue and gives what one worker gives, byte for byte', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'run-card-'));
    const cases: [string, string][] = [['proto_count_array', 'mixed'], ['firewall_5tuple', 'firewall'], ['parse_l3', 'mixed'], ['mac_swap_tx', 'tcp-options']];
    for (const [prog, cap] of cases) {
      const once = async (w: number) => {
        const r = await run('run', obj(prog), '--pcap', pcap(cap), '--json', '--workers', String(w), '--trace', join(dir, `${prog}-${w}.jsonl`),
          '--out', join(dir, `${prog}-${w}`), '--report', join(dir, `${prog}-${w}.html`));
        expect([r.code, r.err], prog).toEqual([0, '']);
        const s = JSON.parse(r.out);
        expect(s.card.workers, prog).toBe(w);
        for (const k of ['elapsedMs', 'packetsPerSecond']) delete s[k];
        delete s.card.workers;
        return s;
      };
      expect(await once(2), prog).toEqual(await once(1));
      for (const f of [`${prog}-1.jsonl`, `${prog}-1.html`, `${prog}-1/pass.pcap`, `${prog}-1/drop.pcap`, `${prog}-1/tx.pcap`]) {
        expect(readFileSync(join(dir, f)).equals(readFileSync(join(dir, f.replace(`${prog}-1`, `${prog}-2`)))), `${prog}: ${f}`).toBe(true);
      }
    }
  }, 60_000);

  it('a program whose packets depend on each other through its maps stays on one thread, saying why', async () => {
    // rodata_config counts packets in a map and reads its configuration from map memory.
    const r = await run('run', obj('rodata_config'), '--pcap', pcap('mixed'), '--json', '--workers', '2');
    expect(r.err).toBe('offload: --workers 2: xdp_rodata_config runs on one thread, because it adds to map values and reads map memory, so a packet could see another worker\'s adds\n');
    expect(JSON.parse(r.out).card.workers).toBe(1);
    const host = await run('run', obj('flow_lru'), '--pcap', pcap('mixed'), '--json', '--workers', '2');
    expect(host.err).toMatch(/--workers 2: the host CPU path runs on one thread\n$/);
    const many = await run('run', obj('proto_count_array'), '--pcap', pcap('mixed'), '--workers', '1024');
    expect([many.code, many.err]).toEqual([1, expect.stringMatching(/^offload: --workers 1024: this machine runs \d+ threads at once/)]);
  });

  it('--link sets the offered load, each frame its wire time; --rate a packet rate', async () => {
    const at10 = JSON.parse((await run('run', obj('basic_actions'), '-s', 'xdp_drop_all', '--pcap', pcap('mixed'), '--json', '--link', '10G')).out);
    const at100 = JSON.parse((await run('run', obj('basic_actions'), '-s', 'xdp_drop_all', '--pcap', pcap('mixed'), '--json', '--link', '100G')).out);
    expect(at10.card.load).toEqual({ kind: 'link', mbps: 10000 });
    expect(at100.card.offered_mpps / at10.card.offered_mpps).toBeCloseTo(10, 0);
    const rate = JSON.parse((await run('run', obj('basic_actions'), '-s', 'xdp_drop_all', '--pcap', pcap('mixed'), '--json', '--rate', '2')).out);
    expect(rate.card.load).toEqual({ kind: 'rate', mpps: 2 });
    expect(rate.card.offered_mpps).toBeCloseTo(2, 1);
  });

  it('frames carrying a packet longer than the MTU are dropped by the MAC and counted, on the card and on the host path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'run-mtu-'));
    const file = join(dir, 'sizes.pcap');
    // 1514 bytes (a 1500-byte packet), 1515, 1518 with a VLAN tag, 2000, and a 9014-byte jumbo frame.
    const sizes = [1514, 1515, 2000, 9014, 60];
    const w = openPcapFile(file, { linkType: LINKTYPE_ETHERNET });
    sizes.forEach((len, k) => w.write(udpFrame(k, len), 1, k));
    const tagged = udpFrame(9, 1518);
    tagged.copyWithin(16, 12, 1514);
    tagged.set([0x81, 0x00, 0x00, 0x05], 12);
    w.write(tagged, 1, 9);
    w.close();
    const card = JSON.parse((await run('run', obj('basic_actions'), '-s', 'xdp_pass_all', '--pcap', file, '--json')).out);
    expect(card).toMatchObject({ target: 'nic', packets: 6, dropped: { oversize: 3 } });
    expect(card.actions.XDP_PASS).toBe(3);
    expect(card.card).toMatchObject({ mtu: 1500, oversize: 3 });
    const jumbo = JSON.parse((await run('run', obj('basic_actions'), '-s', 'xdp_pass_all', '--pcap', file, '--json', '--mtu', '9000')).out);
    expect(jumbo).toMatchObject({ packets: 6, dropped: {} });
    expect(jumbo.actions.XDP_PASS).toBe(6);
    const host = await run('run', obj('fib_lookup'), '--pcap', file, '--json', '--mtu', '1999');
    expect(JSON.parse(host.out)).toMatchObject({ target: 'host', packets: 6, dropped: { oversize: 1 } });
    const text = await run('run', obj('basic_actions'), '-s', 'xdp_pass_all', '--pcap', file, '--no-progress');
    expect(text.out).toMatch(/6 packets = 3 run \+ 3 dropped before the program \+ 0 skipped/);
    expect(text.out).toMatch(/\n {2}3 frames carrying a packet longer than the 1500-byte MTU: dropped by the MAC \(oversize; --mtu sets the MTU\)\n/);
  });

  it('bad input: one line naming what is wrong, exit 1', async () => {
    const cases: [string[], RegExp][] = [
      [['--engine', 'host', '--caps', 'nfp-4000'], /^offload: --caps applies to the card; --engine host runs on the host CPU without one\n$/],
      [['--link', 'fast'], /^offload: --link expects a rate such as 25G, 100G or 10000M, got 'fast'\n$/],
      [['--rate', '-1'], /^offload: --rate expects packets per second in millions/],
      [['--link', '10G', '--rate', '1'], /^offload: --link and --rate both set the offered load: give one\n$/],
      [['--cpus', '4'], /^offload: --cpus: the card spreads packets over its engines by RSS/],
      [['--caps', 'no-such-card'], /no-such-card/],
      [['--mtu', '60'], /^offload: --mtu expects bytes in 68\.\.65521 \(an Ethernet MTU the card's 65535-byte packet buffer holds\), got '60'\n$/],
      [['--mtu', '1500.5'], /^offload: --mtu expects bytes in 68\.\.65521/],
      [['--engine', 'host', '--mtu', '9000'], /^offload: --mtu applies to the card; --engine host runs on the host CPU without one\n$/],
    ];
    for (const [args, err] of cases) {
      const r = await run('run', obj('basic_actions'), '-s', 'xdp_pass_all', '--pcap', pcap('mixed'), ...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.err, args.join(' ')).toMatch(err);
    }
    const dir = mkdtempSync(join(tmpdir(), 'run-card-'));
    // A profile whose card the simulator cannot hold: refused in one line, not an allocation failure.
    const huge = JSON.parse(readFileSync(join(REPO, 'caps', 'profiles', 'nfp-4000.json'), 'utf8'));
    huge.timing.cores = 65535;
    huge.timing.threadsPerCore = 65535;
    writeFileSync(join(dir, 'huge.json'), JSON.stringify(huge));
    const refused = await run('run', obj('basic_actions'), '-s', 'xdp_pass_all', '--pcap', pcap('mixed'), '--caps', join(dir, 'huge.json'));
    expect([refused.code, refused.out]).toEqual([1, '']);
    expect(refused.err).toMatch(/^offload: 65535 engines of 65535 threads, each with a 64-packet ingress queue, need \d+ MiB of simulator state, more than the 2048 MiB it takes \(the profile's timing\.cores, timing\.threadsPerCore and timing\.ingressQueue\)\n$/);
    // Outputs that cannot be written are named before anything runs, and nothing is left behind.
    for (const [opt, path] of [['--report', '/proc/offload-report.html'], ['--out', '/proc/offload-out']] as const) {
      const r = await run('run', obj('basic_actions'), '-s', 'xdp_pass_all', '--pcap', pcap('mixed'), opt, path);
      expect([r.code, r.out], opt).toEqual([1, '']);
      expect(r.err, opt).toMatch(new RegExp(`^offload: ${path}: cannot (be|create)`));
    }
    const raw = join(dir, 'raw.pcap');
    const header = Buffer.alloc(24);
    header.writeUInt32LE(0xa1b2c3d4, 0);
    header.writeUInt16LE(2, 4);
    header.writeUInt16LE(4, 6);
    header.writeUInt32LE(65535, 16);
    header.writeUInt32LE(101, 20);
    writeFileSync(raw, header);
    const r = await run('run', obj('basic_actions'), '-s', 'xdp_pass_all', '--pcap', raw);
    expect([r.code, r.err]).toEqual([1, `offload: ${raw}: link type 101 is not Ethernet (LINKTYPE_ETHERNET, 1): an XDP program receives Ethernet frames\n`]);
  });
});
