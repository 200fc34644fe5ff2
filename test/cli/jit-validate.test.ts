/**
 * `offload jit` and `offload validate` from the command line: the size summary and its
 * JSON, the image file (decoded, loaded, never left half-written), the annotated
 * listing, the refusals with `check`'s exit codes (2 refused, 3 host, program too long
 * for a small profile), validation over random packets and a capture, bad options, and
 * the kernel as a third engine when this process may use it.
 *
 * The card instruction count is not pinned (the JIT's passes change it); every test
 * checks it against another account of the same translation instead.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveProfile } from '../../caps/load-profile.js';
import { profileDigest } from '../../caps/profile-digest.js';
import { decodeImage, loadImage } from '../../nic-sim/image/index.js';
import { disasmInsn } from '../../nic-sim/isa/index.js';
import { main } from '../../offload/cli/main.js';
import { PASSES } from '../../offload/jit/translate.js';
import { kernelAvailable } from '../../xdp/kernel/kernel-oracle.js';
import { loadObjectFile } from '../../xdp/object/load-object.js';
import { openCapture } from '../../xdp/pcap/capture.js';
import { openPcapFile } from '../../xdp/pcap/pcap-writer.js';
import { FIXTURE_OBJ, REPO } from '../support/paths.js';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

const obj = (name: string): string => join(FIXTURE_OBJ, `${name}.o`);
const PARSE_L3 = obj('parse_l3');
const SUBPROG = obj('subprog_call');
const MIXED = join(REPO, 'fixtures', 'pcap', 'mixed.pcap');

const dir = mkdtempSync(join(tmpdir(), 'offload-jit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** One line on stderr, `offload: ` and no stack trace or internal error. */
function expectOneLine(err: string): void {
  expect(err).toMatch(/^offload: [^\n]+\n$/);
  expect(err).not.toMatch(/\n\s+at |internal error/);
}

/** `a → N card instructions` of the summary line. */
function summaryCount(out: string, ebpf: number): number {
  const m = new RegExp(`^.*: (\\w+) on nfp-4000: ${ebpf} eBPF instructions → (\\d+) card instructions \\((\\d+\\.\\d\\d) per eBPF instruction; limit 8192, the 8-instruction prefetch pad included\\)$`, 'm').exec(out);
  expect(m, out).not.toBeNull();
  const n = Number(m![2]);
  expect(m![3]).toBe((n / ebpf).toFixed(2));
  return n;
}

/** Conditional jumps of a program (JMP/JMP32 class, not ja/call/exit): each has a taken and a not-taken outcome. */
function conditionalJumps(path: string): number[] {
  const p = loadObjectFile(path).programs[0]!;
  const out: number[] = [];
  p.insns.forEach((insn, pos) => {
    const cls = insn.code & 7;
    const op = insn.code & 0xf0;
    if ((cls === 5 || cls === 6) && op !== 0x00 && op !== 0x80 && op !== 0x90) out.push(p.slots[pos]!);
  });
  return out;
}

describe('offload jit: the summary', () => {
  it('parse_l3: 69 eBPF instructions, the card count, the limit, every pass; --json says the same', async () => {
    const text = await run('jit', PARSE_L3);
    expect(text.code).toBe(0);
    expect(text.err).toBe('');
    const n = summaryCount(text.out, 69);
    expect(n).toBeGreaterThan(69);
    expect(n).toBeLessThan(8192);
    const passLine = text.out.split('\n')[1]!;
    const json = await run('jit', PARSE_L3, '--json');
    expect(json.code).toBe(0);
    expect(json.err).toBe('');
    const doc = JSON.parse(json.out);
    expect(doc).toMatchObject({ program: 'xdp_parse_l3', caps: 'nfp-4000', ebpf_insns: 69, card_insns: n, limit: 8192 });
    expect(typeof doc.ebpf_insns).toBe('number');
    expect(typeof doc.card_insns).toBe('number');
    expect(doc.image).toBeUndefined();
    expect(doc.passes).toBeTypeOf('object');
    expect(Array.isArray(doc.passes)).toBe(false);
    expect(Object.keys(doc.passes)).toEqual([...PASSES]);
    for (const v of Object.values(doc.passes)) expect(Number.isInteger(v) && (v as number) >= 0).toBe(true);
    // The text's pass line is the JSON's savings.
    expect(passLine).toBe(`passes: ${Object.entries(doc.passes).map(([p, s]) => `${p} −${s}`).join(', ')}`);
  });

  it('a pass\'s saving is what leaving it out costs: --no-opt P gives card_insns + passes[P], and says it is off', async () => {
    const doc = JSON.parse((await run('jit', PARSE_L3, '--json')).out);
    const [pass, saved] = Object.entries(doc.passes as Record<string, number>).reduce((a, b) => (b[1] > a[1] ? b : a));
    expect(saved).toBeGreaterThan(0);
    const off = await run('jit', PARSE_L3, '--json', '--no-opt', pass);
    expect(off.code).toBe(0);
    const offDoc = JSON.parse(off.out);
    expect(offDoc.card_insns).toBe(doc.card_insns + saved);
    expect(offDoc.off).toEqual([pass]);
    expect(Object.keys(offDoc.passes)).not.toContain(pass);
    const offText = await run('jit', PARSE_L3, '--no-opt', pass);
    expect(offText.out.split('\n')[1]).toMatch(new RegExp(`; off: ${pass}$`));
  });

  it('--no-opt with an unknown pass: exit 1, naming it and the passes', async () => {
    const r = await run('jit', PARSE_L3, '--no-opt', 'bogus');
    expect(r.code).toBe(1);
    expectOneLine(r.err);
    expect(r.err).toBe(`offload: --no-opt: no pass 'bogus'; the passes are ${PASSES.join(', ')}\n`);
    expect(r.out).toBe('');
  });

  it('an object that does not exist: exit 1, one line naming it', async () => {
    const missing = join(dir, 'missing.o');
    const r = await run('jit', missing);
    expect(r.code).toBe(1);
    expectOneLine(r.err);
    expect(r.err).toContain(missing);
  });
});

describe('offload jit: a card no JIT translates for', () => {
  it('--caps hxdp: exit 1, one line saying so (check accepts the program and estimates its size)', async () => {
    const r = await run('jit', PARSE_L3, '--caps', 'hxdp');
    expect(r.code).toBe(1);
    expectOneLine(r.err);
    expect(r.err).toMatch(/^offload: jit: no JIT translates for hxdp/);
  });
});

describe('offload jit -o: the image file', () => {
  it('writes an image that decodes and loads on nfp-4000, with the counts of the summary, and no temporary file', async () => {
    // An image in a directory of its own, so that a leftover temporary file would show.
    const sub = mkdtempSync(join(dir, 'img-'));
    const img = join(sub, 'p.img');
    const r = await run('jit', PARSE_L3, '-o', img, '--json');
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    const doc = JSON.parse(r.out);
    expect(doc.image).toBe(img);
    expect(readdirSync(sub)).toEqual(['p.img']);
    const image = decodeImage(readFileSync(img), img);
    const { profile } = resolveProfile('nfp-4000');
    expect(image.format).toBe(1);
    expect(image.capsName).toBe('nfp-4000');
    expect(image.capsDigest).toBe(profileDigest(profile));
    expect(image.program).toBe('xdp_parse_l3');
    expect(image.code.length).toBe(doc.card_insns);
    expect(image.source.length).toBe(doc.card_insns);
    // The run ends before the 8-instruction prefetch pad.
    expect(image.endPc).toBe(doc.card_insns - 8);
    expect(image.source.slice(image.endPc)).toEqual(Array(8).fill(-1));
    // Every card instruction of the body comes from an eBPF instruction of the program.
    const slots = new Set(loadObjectFile(PARSE_L3).programs[0]!.slots);
    const sources = image.source.filter((s) => s >= 0);
    expect(sources.length).toBeGreaterThan(0);
    expect(sources.filter((s) => !slots.has(s))).toEqual([]);
    expect(image.maps).toEqual([]);
    expect(image.files.map((f) => f.split('/').pop())).toEqual(['parse_l3.c']);
    // It loads (relocated at 0) and is the code --annotate lists.
    const loaded = loadImage(image, profile, { file: img, mapIds: [], mapValueAddress: () => 64 });
    expect(loaded.insns.map((i) => disasmInsn(i)).slice(image.endPc)).toEqual(Array(8).fill('nop'));
    const text = await run('jit', PARSE_L3, '-o', img, '--annotate');
    expect(text.code).toBe(0);
    const listed = new Map<number, string>();
    for (const line of text.out.split('\n')) {
      const m = /^\s+(\d+): (nop\b.*|[a-z0-9_]+\[.*)$/.exec(line);
      if (m) listed.set(Number(m[1]), m[2]!);
    }
    expect(loaded.insns.map((i) => disasmInsn(i))).toEqual(image.code.map((_, pc) => listed.get(pc)));
    // The text names the file and the image's table sizes; overwriting leaves no temporary file either.
    expect(text.out).toMatch(new RegExp(`^image: ${img.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(0 maps, ${image.relocs.length} relocations\\)$`, 'm'));
    expect(image.relocs.length).toBeGreaterThan(0);
    expect(readdirSync(sub)).toEqual(['p.img']);
  });

  it('-o into a directory that does not exist: exit 1, one line naming the path, nothing written', async () => {
    const img = join(dir, 'no-such-dir', 'p.img');
    const r = await run('jit', PARSE_L3, '-o', img);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expectOneLine(r.err);
    expect(r.err).toBe(`offload: ${img}: its directory ${join(dir, 'no-such-dir')} does not exist\n`);
    expect(existsSync(join(dir, 'no-such-dir'))).toBe(false);
  });

  it('-o /proc/x.img: exit 1, one line naming the path', async () => {
    const r = await run('jit', PARSE_L3, '-o', '/proc/x.img');
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expectOneLine(r.err);
    expect(r.err).toMatch(/^offload: \/proc\/x\.img: cannot be written: /);
  });

  it('-o naming a directory: exit 1, one line', async () => {
    const r = await run('jit', PARSE_L3, '-o', dir);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`offload: ${dir}: is a directory\n`);
  });

  it('a program that is not translated writes no image and keeps an existing file as it was', async () => {
    const sub = mkdtempSync(join(dir, 'refused-'));
    const fresh = join(sub, 'fresh.img');
    const r = await run('jit', obj('fib_lookup'), '-o', fresh);
    expect(r.code).toBe(3);
    expect(readdirSync(sub)).toEqual([]);
    const old = join(sub, 'old.img');
    writeFileSync(old, 'previous contents');
    const r2 = await run('jit', obj('reject_unchecked_read'), '-o', old);
    expect(r2.code).toBe(2);
    expect(readFileSync(old, 'utf8')).toBe('previous contents');
    expect(readdirSync(sub)).toEqual(['old.img']);
  });
});

describe('offload jit --annotate', () => {
  it('subprog_call: C lines, every eBPF instruction, every card address once, the outro and the pad', async () => {
    const r = await run('jit', SUBPROG, '--annotate');
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    const lines = r.out.trimEnd().split('\n');
    const ebpf = loadObjectFile(SUBPROG).programs[0]!;
    const n = summaryCount(r.out, ebpf.insns.length);
    const src = readFileSync(join(REPO, 'fixtures', 'src', 'subprog_call.c'), 'utf8').split('\n');

    const cLines = lines.filter((l) => l.startsWith('; subprog_call.c:'));
    expect(cLines.length).toBeGreaterThan(5);
    for (const l of cLines) {
      // `; file:line  text`: the text is that line of the source, trimmed.
      const m = /^; subprog_call\.c:(\d+) {2}(.*)$/.exec(l);
      expect(m, l).not.toBeNull();
      expect(m![2]).toBe(src[Number(m![1]) - 1]!.trim());
    }
    expect(cLines).toContain('; subprog_call.c:31  sum += word[i];');

    const outro = lines.indexOf('; outro (r0 → action code in gprA_0), then the prefetch pad');
    expect(outro).toBeGreaterThan(0);
    expect(lines.filter((l) => l.startsWith('; outro'))).toHaveLength(1);

    // Card instructions sit deeper (10 columns and more) than any eBPF instruction (its index in 5).
    const cardRe = /^ {10,}(\d+): (nop\b.*|[a-z0-9_]+\[.*)$/;
    const ebpfRe = /^ {0,4}(\d+): (.*)$/;
    const cardAt: number[] = [];
    const ebpfAt: number[] = [];
    lines.slice(2).forEach((l, i) => {
      if (l.startsWith(';')) return;
      const c = cardRe.exec(l);
      if (c) cardAt.push(Number(c[1]));
      else {
        const e = ebpfRe.exec(l);
        expect(e, `line ${i + 3}: ${l}`).not.toBeNull();
        expect(i + 2, 'an eBPF instruction after the outro').toBeLessThan(outro);
        ebpfAt.push(Number(e![1]));
      }
    });
    // Every eBPF instruction once, in order (no lddw here: index = position).
    expect(ebpfAt).toEqual(ebpf.slots);
    expect(lines).toContain('   16: call +5 <ipv4_header_csum>');
    expect(lines).toContain('   21: exit');
    // Every card address 0..N-1 exactly once.
    expect([...cardAt].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    // After the outro line: the outro's code, ending with the 8 nops of the prefetch pad.
    const tail = lines.slice(outro + 1);
    expect(tail.every((l) => cardRe.test(l))).toBe(true);
    expect(tail.slice(-8).map((l) => cardRe.exec(l)![2])).toEqual(Array(8).fill('nop'));
    expect(Number(cardRe.exec(tail.at(-1)!)![1])).toBe(n - 1);
  });
});

describe('offload jit: programs that are not translated', () => {
  it('refused by the verifier: exit 2, the verifier\'s reason on stderr, nothing on stdout', async () => {
    const r = await run('jit', obj('reject_unchecked_read'));
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toBe(`offload: ${obj('reject_unchecked_read')}: xdp_reject_unchecked_read: refused by the verifier, not translated:\n`
      + '  insn 1: invalid access to packet, off=12 size=1, R1(id=0,off=12,r=0)\n');
  });

  it('not offloadable on nfp-4000: exit 3, every reason', async () => {
    const r = await run('jit', obj('fib_lookup'));
    expect(r.code).toBe(3);
    expect(r.out).toBe('');
    const lines = r.err.trimEnd().split('\n');
    expect(lines[0]).toBe(`offload: ${obj('fib_lookup')}: xdp_fib_forward: not offloadable on nfp-4000 (it runs on the host CPU), not translated:`);
    expect(lines.slice(1)).toEqual([
      '  insn 41: reads xdp_md.ingress_ifindex: nfp-4000 gives a program only data and data_end',
      '  insn 47: bpf_fib_lookup (id 69) is not available on nfp-4000',
      '  insn 104: bpf_redirect (id 23) is not available on nfp-4000',
    ]);
  });

  it('too long for --caps minimal (64 instructions), and nothing else wrong: check says program-size only, jit exits 3', async () => {
    const check = await run('check', PARSE_L3, '--caps', 'minimal', '--json');
    expect(check.code).toBe(3);
    const doc = JSON.parse(check.out);
    expect(doc.verdict).toBe('host');
    const size = doc.resources.programSize;
    expect(size).toMatchObject({ limit: 64, estimate: false, ebpfInsns: 69 });
    expect(size.used).toBeGreaterThan(64);
    expect(doc.reasons).toEqual([{ rule: 'program-size', message: `program too long: ${size.used} card instructions (limit 64)` }]);
    const jit = await run('jit', PARSE_L3, '--caps', 'minimal');
    expect(jit.code).toBe(3);
    expect(jit.out).toBe('');
    expect(jit.err).toBe(`offload: ${PARSE_L3}: xdp_parse_l3: not offloadable on minimal (it runs on the host CPU), not translated:\n`
      + `  program too long: ${size.used} card instructions (limit 64)\n`);
    // The same profile given as a file.
    const file = await run('jit', PARSE_L3, '--caps', join(REPO, 'caps', 'profiles', 'minimal.json'), '--json');
    expect(file.code).toBe(3);
  });
});

describe('offload validate', () => {
  const JUMPS = conditionalJumps(PARSE_L3);

  it('parse_l3, 300 random packets, seed 7: no mismatch, the coverage line', async () => {
    const r = await run('validate', PARSE_L3, '--random', '300', '--seed', '7');
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toBe(`${PARSE_L3}: xdp_parse_l3 on nfp-4000: host, card`);
    expect(lines[1]).toBe('packets: 300 (300 random (seed 7)), compared 300');
    expect(lines).toContain('mismatches: 0');
    expect(r.out).toMatch(new RegExp(`^branch coverage: \\d+ of ${2 * JUMPS.length} branch outcomes \\(\\d+%\\)`, 'm'));
    expect(r.out).not.toContain('MISMATCH');
  });

  it('--json: the counts, the engines and the coverage, identical for the same seed', async () => {
    const a = await run('validate', PARSE_L3, '--random', '300', '--seed', '7', '--json');
    expect(a.code).toBe(0);
    expect(a.err).toBe('');
    const doc = JSON.parse(a.out);
    expect(doc).toMatchObject({ program: 'xdp_parse_l3', caps: 'nfp-4000', seed: 7, packets: 300, compared: 300, skipped: {}, mismatches: 0 });
    expect(doc.engines).toEqual(['host', 'card']);
    expect(doc.mismatch).toBeUndefined();
    const { branches, covered, missed } = doc.coverage;
    // Two outcomes per conditional jump of the program.
    expect(branches).toBe(2 * JUMPS.length);
    expect(branches).toBeGreaterThan(0);
    expect(covered).toBeGreaterThan(0);
    expect(covered).toBeLessThanOrEqual(branches);
    expect(missed).toHaveLength(branches - covered);
    for (const m of missed as string[]) {
      const at = /^(\d+) (taken|not taken)$/.exec(m);
      expect(at, m).not.toBeNull();
      expect(JUMPS).toContain(Number(at![1]));
    }
    const b = await run('validate', PARSE_L3, '--random', '300', '--seed', '7', '--json');
    expect(b.out).toBe(a.out);
    // The text form counts the same.
    const text = await run('validate', PARSE_L3, '--random', '300', '--seed', '7');
    expect(text.out).toContain(`branch coverage: ${covered} of ${branches} branch outcomes`);
  });

  it('--pcap alone: exactly the capture\'s packets, no random ones', async () => {
    let records = 0;
    for (const _ of openCapture(MIXED)) records++;
    expect(records).toBeGreaterThan(0);
    const r = await run('validate', PARSE_L3, '--pcap', MIXED, '--json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc).toMatchObject({ packets: records, compared: records, mismatches: 0 });
    const text = await run('validate', PARSE_L3, '--pcap', MIXED);
    expect(text.code).toBe(0);
    expect(text.out.split('\n')[1]).toBe(`packets: ${records} (${MIXED}), compared ${records}`);
    // With --random too: both.
    const both = JSON.parse((await run('validate', PARSE_L3, '--pcap', MIXED, '--random', '5', '--json')).out);
    expect(both.packets).toBe(records + 5);
  });

  it('with neither --pcap nor --random: 1000 random packets', async () => {
    const doc = JSON.parse((await run('validate', obj('basic_actions'), '-s', 'xdp_drop_all', '--json')).out);
    expect(doc).toMatchObject({ packets: 1000, compared: 1000, mismatches: 0, seed: 1 });
  });
});

describe('offload validate: bad input', () => {
  it.each([
    [['--random', 'abc'], "offload: --random expects a whole number, got 'abc'\n"],
    [['--seed', '-1'], "offload: --seed expects a whole number, got '-1'\n"],
    [['--seed', '1.5'], "offload: --seed expects a whole number, got '1.5'\n"],
    [['--oracle', 'qemu'], "offload: --oracle takes 'kernel', got 'qemu'\n"],
    [['--seed', '99999999999999999999'], 'offload: --seed 99999999999999999999 is above 4294967295\n'],
    [['--random', '0'], 'offload: validate: --random 0 and no --pcap: there are no packets to compare\n'],
    [['--caps', 'hxdp'], 'offload: validate: no JIT translates for hxdp (64-bit, issue width 4): this JIT targets NFP-shaped cards (32-bit, single issue: nfp-4000, minimal); `offload check` estimates the size for others\n'],
  ])('%j: exit 1, one line naming the option', async (args, message) => {
    const r = await run('validate', PARSE_L3, ...args);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toBe(message);
  });

  it('every record of the capture is accounted for: not-Ethernet and unusable records are counted as not compared', async () => {
    const raw = join(dir, 'raw-ip.pcap');
    const w = openPcapFile(raw, { linkType: 101 });
    for (let i = 0; i < 3; i++) w.write(new Uint8Array(40), i, 0);
    w.close();
    const r = await run('validate', PARSE_L3, '--pcap', raw, '--json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out) as { packets: number; compared: number; skipped: Record<string, number> };
    expect(doc.packets).toBe(3);
    expect(doc.compared).toBe(0);
    expect(doc.skipped).toEqual({ 'not compared: link type 101 is not Ethernet (XDP sees Ethernet frames)': 3 });
  });

  it('--pcap /nonexistent: exit 1, one line naming the path', async () => {
    const r = await run('validate', PARSE_L3, '--pcap', '/nonexistent');
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expectOneLine(r.err);
    expect(r.err).toMatch(/^offload: \/nonexistent: cannot open: ENOENT/);
  });

  it('--pcap naming a directory: exit 1, one line', async () => {
    const r = await run('validate', PARSE_L3, '--pcap', dir);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`offload: ${dir}: is a directory, not a capture file\n`);
  });

  it('a program the verifier refuses: exit 2, the reason, nothing validated', async () => {
    const r = await run('validate', obj('reject_unchecked_read'), '--random', '10');
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toBe(`offload: ${obj('reject_unchecked_read')}: xdp_reject_unchecked_read: refused by the verifier, nothing to validate:\n`
      + '  insn 1: invalid access to packet, off=12 size=1, R1(id=0,off=12,r=0)\n');
  });

  it('a program the card cannot run: exit 3, its reasons', async () => {
    const r = await run('validate', obj('fib_lookup'), '--random', '10');
    expect(r.code).toBe(3);
    expect(r.out).toBe('');
    expect(r.err.split('\n')[0]).toBe(`offload: ${obj('fib_lookup')}: xdp_fib_forward: not offloadable on nfp-4000, nothing to validate:`);
    expect(r.err.trimEnd().split('\n')).toHaveLength(4);
    const small = await run('validate', PARSE_L3, '--caps', 'minimal', '--random', '10');
    expect(small.code).toBe(3);
    expect(small.err).toMatch(/\n {2}program too long: \d+ card instructions \(limit 64\)\n$/);
  });
});

const kernel = kernelAvailable();
describe('offload validate --oracle kernel', () => {
  it.skipIf(!kernel.ok)(`the kernel is a third engine and agrees${kernel.ok ? '' : ` (skipped: ${kernel.reason})`}`, async () => {
    const r = await run('validate', PARSE_L3, '--oracle', 'kernel', '--random', '100', '--json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.engines).toEqual(['host', 'card', 'kernel']);
    expect(doc).toMatchObject({ packets: 100, compared: 100, mismatches: 0 });
    // Packets BPF_PROG_TEST_RUN refuses (under 14 bytes) are counted, never silently dropped.
    for (const [why, n] of Object.entries(doc.skipped as Record<string, number>)) {
      expect(why).toMatch(/not run on the kernel/);
      expect(n).toBeGreaterThan(0);
      expect(n).toBeLessThan(100);
    }
    const text = await run('validate', PARSE_L3, '--oracle', 'kernel', '--random', '100');
    expect(text.code).toBe(0);
    expect(text.out.split('\n')[0]).toBe(`${PARSE_L3}: xdp_parse_l3 on nfp-4000: host, card, kernel`);
  });
});
