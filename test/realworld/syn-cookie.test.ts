/**
 * The SYN-cookie helpers (bpf_tcp_raw_gen_syncookie_ipv4/6, bpf_tcp_raw_check_syncookie_ipv4/6) that
 * XDP SYN proxies call: the verifier checks their fixed-size header arguments as the kernel does
 * (ARG_PTR_TO_FIXED_SIZE_MEM: a whole struct iphdr / ipv6hdr / tcphdr readable), the host engines
 * refuse them by name (the cookie hashes with the kernel's secret), and the kernel engine runs them:
 * rw_syn_cookie answers each SYN with a SYN-ACK carrying the kernel's cookie and checksums that are
 * right.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../offload/cli/main.js';
import { verifyProgram } from '../../offload/verifier/verifier.js';
import { kernelAvailable } from '../../xdp/kernel/kernel-oracle.js';
import { kernelVerdict } from '../../xdp/kernel/load-program.js';
import { loadObjectFile } from '../../xdp/object/load-object.js';
import { openCapture } from '../../xdp/pcap/capture.js';
import { XdpMachine } from '../../xdp/runtime/xdp-machine.js';
import { caseObject } from '../verifier/case-loader.js';
import { FIXTURE_OBJ, REPO } from '../support/paths.js';

const OBJ = join(FIXTURE_OBJ, 'rw_syn_cookie.o');
const PCAP = join(REPO, 'fixtures', 'pcap', 'tcp-options.pcap');
const kernel = kernelAvailable();
const kernelOk = kernel.ok && kernel.privileged;
if (!kernelOk) console.log(`SKIP the kernel side of the SYN-cookie tests: ${kernel.ok ? 'not privileged' : kernel.reason}`);

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: { write: (s: string) => void (out += s) }, stderr: { write: (s: string) => void (err += s) } });
  return { code, out, err };
}

/** A probe: r1 and r2 point at `a` and `b` bytes of packet checked against data_end, r3 = 20. */
const probe = (helper: number, checked: number, r2Stack = false) => caseObject({
  name: `syncookie_${helper}_${checked}`,
  asm: [
    'ldxw %r2, [%r1+0]', 'ldxw %r3, [%r1+4]', 'mov %r4, %r2', `add %r4, ${checked}`, 'jgt %r4, %r3, out',
    'mov %r1, %r2', r2Stack ? 'mov %r2, %r10' : 'add %r2, 20', r2Stack ? 'add %r2, -24' : 'mov %r0, 0',
    ...(r2Stack ? ['stdw [%r10-24], 0', 'stdw [%r10-16], 0', 'stdw [%r10-8], 0'] : []),
    'mov %r3, 20', `call ${helper}`, 'out:', 'mov %r0, 2', 'exit',
  ].join('\n'),
  maps: [],
});

/** Internet checksum of `b` (0 when the bytes carry a correct one). */
function sum16(b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i + 1 < b.length; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  if (b.length % 2) s += b[b.length - 1]! << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

describe('SYN-cookie helpers in the verifier', () => {
  it('need a whole header behind each fixed-size argument, as the kernel says', () => {
    const cases: [number, number, boolean][] = [
      [204, 40, false], [204, 39, false], [204, 19, false], [204, 20, true], [206, 40, false], [206, 39, false],
      [205, 40, true], [205, 39, true], [207, 40, false], [207, 39, false],
    ];
    for (const [helper, checked, stack] of cases) {
      const { object, program } = probe(helper, checked, stack);
      const ours = verifyProgram(program, object.maps);
      const label = `helper ${helper}, ${checked} bytes checked`;
      if (kernelOk) {
        const k = kernelVerdict(object, program, { logLevel: 1 });
        expect(ours.ok, `${label}: kernel ${k.accepted ? 'accepts' : k.rejection?.message}`).toBe(k.accepted);
        if (!k.accepted) {
          expect(k.rejection?.message, label).toContain(ours.error!.message.split('\n').join(' / '));
          expect(ours.error!.insn, label).toBe(k.rejection?.insn);
        } else {
          expect(ours.stats.processed, label).toBe(k.verifiedInsns);
        }
      }
      // Without the kernel, the rule itself: the IP header (20 or 40 bytes) at the packet's start, and
      // the 20-byte TCP header r2 points at (20 bytes in, or on the stack) must be readable.
      const need = helper === 205 || helper === 207 ? 40 : 20;
      const fits = checked >= need && (stack || checked >= 40);
      expect(ours.ok, label).toBe(fits);
    }
  });

  it('rw_syn_cookie verifies with the kernel\'s count', () => {
    const o = loadObjectFile(OBJ);
    const r = verifyProgram(o.programs[0]!, o.maps);
    expect(r.ok).toBe(true);
    expect(r.stats.processed).toBe(272);
  });
});

describe('SYN-cookie helpers in the engines', () => {
  it('the host engines refuse them by name, up front in `run` and at the call in a machine', async () => {
    for (const engine of ['host', 'interp']) {
      const r = await run('run', OBJ, '--pcap', PCAP, '--engine', engine, '--no-progress');
      expect([r.code, r.err]).toEqual([1, 'offload: helper bpf_tcp_raw_check_syncookie_ipv4#206 cannot run on the host engine: it needs the kernel\'s SYN-cookie secret (--engine kernel)\n']);
    }
    const o = loadObjectFile(OBJ);
    const m = new XdpMachine(o, o.programs[0]!, { engine: 'compiled' });
    const syn = [...openCapture(PCAP, { copy: true })][0]!.data;
    const res = m.run(syn, 0);
    expect([res.actionName, res.error]).toEqual(['XDP_ABORTED', expect.stringContaining('bpf_tcp_raw_gen_syncookie_ipv4#204 cannot run on the host engine')]);
  });

  it.skipIf(!kernelOk)('the kernel engine answers SYNs with SYN-ACKs carrying its cookie, checksums right', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'syn-cookie-'));
    try {
      const r = await run('run', OBJ, '--pcap', PCAP, '--engine', 'kernel', '--no-progress', '--out', dir, '--json');
      expect(r.code).toBe(0);
      const doc = JSON.parse(r.out);
      // 18 whole SYNs are answered; the SYN whose options the capture cut off fails bpf_xdp_load_bytes.
      expect(doc.actions).toMatchObject({ XDP_TX: 18, XDP_DROP: 1, XDP_PASS: 0 });
      const inputs = [...openCapture(PCAP, { copy: true })].filter((p) => p.capLen >= 54 + ((p.data[46]! >> 4) * 4 - 20));
      const replies = [...openCapture(join(dir, 'tx.pcap'), { copy: true })];
      expect(replies.length).toBe(18);
      replies.forEach((rec, i) => {
        const p = rec.data;
        const q = inputs[i]!.data;
        const ipLen = (p[16]! << 8) | p[17]!;
        expect(sum16(p.subarray(14, 34)), `reply ${i}: IPv4 checksum`).toBe(0);
        const pseudo = new Uint8Array(12 + ipLen - 20);
        pseudo.set(p.subarray(26, 34), 0);
        pseudo[9] = 6;
        pseudo[10] = (ipLen - 20) >> 8;
        pseudo[11] = (ipLen - 20) & 0xff;
        pseudo.set(p.subarray(34, 14 + ipLen), 12);
        expect(sum16(pseudo), `reply ${i}: TCP checksum`).toBe(0);
        expect(p[47]! & 0x12, `reply ${i}: SYN|ACK`).toBe(0x12);
        // Addresses and ports swapped, the acknowledgement one past the SYN's sequence.
        expect([...p.subarray(26, 30)]).toEqual([...q.subarray(30, 34)]);
        expect([...p.subarray(34, 36)]).toEqual([...q.subarray(36, 38)]);
        const seq = Buffer.from(q).readUInt32BE(38);
        expect(Buffer.from(p).readUInt32BE(42)).toBe((seq + 1) >>> 0);
      });
      expect(JSON.stringify(doc.maps)).toContain('"key":0');
      expect(readFileSync(join(dir, 'drop.pcap')).length).toBeGreaterThan(24);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
