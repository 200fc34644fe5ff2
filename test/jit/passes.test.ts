/**
 * The JIT's passes (offload/jit/nfp/passes.ts): each one saves card instructions on
 * the project's offloadable fixtures (the figures `npm run bench:jit` prints), each
 * can be switched off alone, and the code each one leaves out is the code it claims
 * to (a packet-pointer bounds check narrowed to one subtraction and a branch; a
 * context copy gone; a constant subtracted instead of a negative one added). That
 * the optimised code still computes what the host does is test/jit/fixtures-card.test.ts
 * and test/jit/random-programs.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { resolveProfile } from '../../caps/load-profile.js';
import { disasmInsn } from '../../nic-sim/isa/index.js';
import { isNop } from '../../nic-sim/isa/instructions.js';
import { passSavings, translateOptions, translateProgram } from '../../offload/jit/jit-program.js';
import { PASSES, translate, type PassName } from '../../offload/jit/translate.js';
import { decideOffload } from '../../offload/rules/decide.js';
import { findPrograms, loadObjectFile } from '../../xdp/object/load-object.js';
import { fixtureObjects } from '../support/paths.js';
import { caseObject } from '../verifier/case-loader.js';
import { Card } from '../../nic-sim/card/card.js';
import { nfpActionName, nfpActionOf } from '../../nic-sim/card/actions.js';
import { buildImage } from '../../offload/jit/image-writer.js';
import { XdpMachine } from '../../xdp/runtime/xdp-machine.js';
import { cardAgreesWithHost } from '../support/card-vs-host.js';

const { profile } = resolveProfile('nfp-4000');
const programs = fixtureObjects().flatMap((file) => {
  const obj = loadObjectFile(file);
  return findPrograms(obj).filter((p) => decideOffload(obj, p, profile, { privileged: true }).verdict === 'offload').map((program) => ({ file, obj, program }));
});
const translated = programs.map(({ file, obj, program }) => ({ file, program, ...translateProgram(obj, program, profile) }));

/** The card code of one eBPF instruction, as text. */
function codeOf(t: (typeof translated)[number], index: number, off: readonly PassName[] = []): string[] {
  const card = off.length ? translate(t.records.records, translateOptions(profile, new Set(off))) : t.card;
  return card.insns.flatMap((insn, pc) => (card.sourceMap[pc] === index ? [disasmInsn(insn)] : []));
}

const find = (file: string, name: string) => translated.find((t) => t.file.endsWith(file) && t.program.name === name)!;

/** An assembled XDP program, translated with every pass: card and host agree on every packet (test/support/card-vs-host.ts). */
const cardAgrees = (name: string, asm: readonly string[], packets: readonly Uint8Array[]) => cardAgreesWithHost(name, asm, packets).card;

describe('JIT passes', () => {
  it.each(PASSES.filter((p) => p !== 'dead-code'))('%s saves card instructions on the fixtures', (pass) => {
    const saved = translated.reduce((n, t) => n + passSavings(t.records, profile, t.card)[pass], 0);
    expect(saved).toBeGreaterThan(0);
    // Off alone, it never makes the code shorter.
    for (const t of translated) expect(passSavings(t.records, profile, t.card)[pass]).toBeGreaterThanOrEqual(0);
  });

  it('dead-code: what the verifier never reached emits nothing, and a jump it never took loses its compare (none of the fixtures has any: clang removes it)', () => {
    // r1 is 5 on every path: `if r1 > 7` is never taken, so `r0 = 1` at 3 is never reached.
    const { object, program } = caseObject({ name: 'dead', section: 'xdp', maps: [], asm: ['mov %r1, 5', 'mov %r0, 2', 'jgt %r1, 7, dead', 'exit', 'dead:', 'mov %r0, 1', 'exit'].join('\n') });
    const t = { file: 'dead', program, ...translateProgram(object, program, profile) };
    expect(t.records.records.filter((r) => r.visits === 0).map((r) => r.index)).toEqual([4, 5]);
    expect(codeOf(t, 2)).toEqual([]);
    expect(codeOf(t, 4)).toEqual([]);
    expect(codeOf(t, 4, ['dead-code', 'compact'])).toEqual([expect.stringMatching(/^br\[\.\d+\]$/)]);
    expect(passSavings(t.records, profile, t.card)['dead-code']).toBeGreaterThan(0);
  });

  it('narrow32: a packet bounds check (pointers are 32-bit on the card) is one subtraction and a branch', () => {
    const t = find('parse_l3.o', 'xdp_parse_l3');
    const check = t.records.records.find((r) => r.kind.k === 'jcond' && [...(r.reads[r.insn.dst]?.types ?? [])].includes('pkt'))!;
    expect(codeOf(t, check.index)).toHaveLength(2);
    expect(codeOf(t, check.index, ['narrow32'])).toHaveLength(3);
  });

  it('reg-init: a copy of the context pointer emits nothing', () => {
    const t = translated.find((x) => x.records.records.some((r) => r.kind.k === 'alu' && r.kind.op === 'mov' && r.kind.useReg && r.reads[r.insn.src]?.types.has('ctx')))!;
    const copy = t.records.records.find((r) => r.kind.k === 'alu' && r.kind.op === 'mov' && r.kind.useReg && r.reads[r.insn.src]?.types.has('ctx'))!;
    expect(codeOf(t, copy.index)).toEqual([]);
    expect(codeOf(t, copy.index, ['reg-init']).length).toBeGreaterThan(0);
  });

  it('pkt-cache: a 64-byte window is one read of 16 words (the length from the previous result), and the loads agree with the host', () => {
    const asm = [
      'ldxw %r2, [%r1+4]', 'ldxw %r1, [%r1+0]', 'mov %r3, %r1', 'add %r3, 64', 'mov %r0, 1', 'jgt %r3, %r2, out',
      'ldxb %r4, [%r1+0]', 'ldxb %r5, [%r1+61]', 'ldxh %r6, [%r1+33]', 'add %r4, %r5', 'add %r4, %r6', 'mov %r0, %r4', 'and %r0, 3',
      'out:', 'exit',
    ];
    const { object, program } = caseObject({ name: 'window64', section: 'xdp', maps: [], asm: asm.join('\n') });
    const { card } = translateProgram(object, program, profile);
    const reads = card.insns.filter((i) => i.cls === 'cmd' && i.action === 'read32');
    expect(reads).toEqual([expect.objectContaining({ xfer: 16, indirect: true, length: 8 })]);
    const image = buildImage(card, program, object.maps, profile);
    const onCard = new Card(image, profile, { file: 'window64' });
    const host = new XdpMachine(object, program, { engine: 'interp' });
    for (let n = 0; n < 200; n++) {
      const pkt = Uint8Array.from({ length: 40 + n }, (_, i) => (i * 37 + n * 11) & 0xff);
      const h = host.run(pkt, n);
      expect(nfpActionName(onCard.runPacket(pkt).action), `packet of ${pkt.length} bytes`).toBe(nfpActionName(nfpActionOf(h.action)));
    }
  });

  it('zext: a 32-bit operation on a register whose high word was never written still zeroes it where it is read later', () => {
    // r4's high word is all ones from `mov r4, -1` (live: r5 copies it, and r5 is stored whole); the byte load
    // into r4 may leave that high word (nothing reads it before `w4 += 1` writes it), so `w4 += 1` must zero it,
    // although the verifier proves r4's value below 2^32 there: r0 = r4 >> 32 is 0, the action XDP_PASS.
    const asm = [
      'ldxw %r2, [%r1+4]', 'ldxw %r1, [%r1+0]', 'mov %r3, %r1', 'add %r3, 1', 'mov %r0, 1', 'jgt %r3, %r2, out',
      'mov %r4, -1', 'mov %r5, %r4', 'stxdw [%r10-8], %r5', 'ldxb %r4, [%r1+0]', 'add32 %r4, 1', 'mov %r0, %r4', 'rsh %r0, 32', 'add %r0, 2',
      'out:', 'exit',
    ];
    const { object, program } = caseObject({ name: 'zext_stale', section: 'xdp', maps: [], asm: asm.join('\n') });
    const { card } = translateProgram(object, program, profile);
    const onCard = new Card(buildImage(card, program, object.maps, profile), profile, { file: 'zext_stale' });
    expect(nfpActionName(onCard.runPacket(new Uint8Array(60).fill(7)).action)).toBe('pass');
  });

  it('neg-add-sub: r2 += -8 on a stack pointer becomes a subtraction of 8, no immed', () => {
    const t = find('proto_count_array.o', 'xdp_proto_count');
    const add = t.records.records.find((r) => r.kind.k === 'alu' && r.kind.op === 'add' && !r.kind.useReg && r.insn.imm < 0)!;
    // (With fuse-mov, `r2 = r10; r2 += -8` is one immed of the stack address: measured here without it.)
    const code = codeOf(t, add.index, ['fuse-mov']);
    expect(code.some((c) => c.startsWith('immed'))).toBe(false);
    expect(code[0]).toMatch(/, -, /);
    expect(codeOf(t, add.index, ['fuse-mov', 'neg-add-sub']).some((c) => c.startsWith('immed'))).toBe(true);
  });

  it("outro-range: the outro is 2 instructions for r0 in [1, 2], 6 for [0, 3], the NFP's 10 otherwise; the card agrees with the host", () => {
    const packets = Array.from({ length: 256 }, (_, b) => Uint8Array.from({ length: 60 }, (_, i) => (i === 0 ? b : i)));
    // r0 = first byte & mask (+ add), or 0 when the packet is empty.
    const prog = (mask: number, add: number) => [
      'ldxw %r2, [%r1+4]', 'ldxw %r1, [%r1+0]', 'mov %r3, %r1', 'add %r3, 1', 'mov %r0, 1', 'jgt %r3, %r2, out',
      'ldxb %r0, [%r1+0]', `and %r0, ${mask}`, `add %r0, ${add}`, 'out:', 'exit',
    ];
    const outro = (card: ReturnType<typeof cardAgrees>) => card.endPc - card.outroPc;
    expect(outro(cardAgrees('drop_pass', prog(1, 1), packets))).toBe(2);
    expect(outro(cardAgrees('table', prog(3, 0), packets))).toBe(6);
    expect(outro(cardAgrees('full', prog(7, 0), packets))).toBe(10);
    // Off, the NFP's outro.
    const { object, program } = caseObject({ name: 'drop_pass', section: 'xdp', maps: [], asm: prog(1, 1).join('\n') });
    const { records } = translateProgram(object, program, profile);
    const off = translate(records.records, translateOptions(profile, new Set(['outro-range'])));
    expect(off.endPc - off.outroPc).toBe(10);
  });

  it('compact: the write delay of the stack pointer is filled by the first instructions, and a branch to the next instruction goes', () => {
    const packets = Array.from({ length: 64 }, (_, b) => Uint8Array.from({ length: 20 }, (_, i) => (i === 0 ? b : i)));
    const asm = [
      'ldxw %r2, [%r1+4]', 'ldxw %r1, [%r1+0]', 'mov %r3, %r2', 'sub %r3, %r1', 'stxw [%r10-4], %r3', 'stxw [%r10-8], %r3',
      'mov %r0, 1', 'mov %r5, %r1', 'add %r5, 1', 'jgt %r5, %r2, out', 'ldxb %r0, [%r1+0]', 'ldxw %r6, [%r10-4]', 'add %r0, %r6', 'and %r0, 1', 'add %r0, 1',
      'out:', 'exit',
    ];
    const card = cardAgrees('delay', asm, packets);
    const nops = (c: typeof card) => c.insns.slice(0, c.endPc).filter((i) => isNop(i)).length;
    expect(nops(card)).toBe(0);
    const { object, program } = caseObject({ name: 'delay', section: 'xdp', maps: [], asm: asm.join('\n') });
    const { records } = translateProgram(object, program, profile);
    const off = translate(records.records, translateOptions(profile, new Set(['compact'])));
    expect(nops(off)).toBe(3);
    // Off, the exit's branch to the outro right after it is there; on, it is not.
    const exit = records.records.find((r) => r.kind.k === 'exit')!.index;
    const exitAt = (c: typeof card) => c.addressOf.get(exit)!;
    expect(disasmInsn(off.insns[exitAt(off)]!)).toMatch(/^br\[/);
    expect(exitAt(card)).toBe(card.outroPc);
  });

  it('const-src and dead-def: a constant register is an immediate where it is read, and the move that set it emits nothing', () => {
    const packets = Array.from({ length: 64 }, (_, b) => Uint8Array.from({ length: 30 }, (_, i) => (i === 3 ? b : i * 3)));
    const asm = [
      'ldxw %r2, [%r1+4]', 'ldxw %r1, [%r1+0]', 'mov %r4, 7', 'mov %r5, -2', 'mov %r0, 1', 'mov %r3, %r1', 'add %r3, 6', 'jgt %r3, %r2, out',
      'ldxb %r3, [%r1+3]', 'add %r3, %r4', 'stxb [%r1+5], %r4', 'stxw [%r10-4], %r5', 'ldxw %r6, [%r10-4]', 'add %r3, %r6', 'jgt %r3, %r4, big',
      'mov %r0, 2', 'ja out', 'big:', 'mov %r0, 3', 'out:', 'exit',
    ];
    const card = cardAgrees('consts', asm, packets);
    const { object, program } = caseObject({ name: 'consts', section: 'xdp', maps: [], asm: asm.join('\n') });
    const t = { file: 'consts', program, ...translateProgram(object, program, profile) };
    expect(t.card.insns.length).toBe(card.insns.length);
    // The moves of 7 and −2 emit nothing; r4 and r5 (gprB_8, gprB_10) are never read.
    expect(codeOf(t, 2)).toEqual([]);
    expect(codeOf(t, 3)).toEqual([]);
    expect(t.card.insns.map((i) => disasmInsn(i)).filter((c) => /gpr[AB]_(8|10)\b/.test(c))).toEqual([]);
    expect(codeOf(t, 2, ['dead-def'])).not.toEqual([]);
    expect(codeOf(t, 9, ['const-src']).join(' ')).toMatch(/gprB_8/);
    // An atomic add of a constant: the value goes to the transfer registers as immediates, its move emits nothing.
    const rodata = find('rodata_config.o', 'xdp_rodata_config');
    const atomic = rodata.records.records.find((r) => r.kind.k === 'atomic')!;
    expect(codeOf(rodata, atomic.index).filter((c) => c.startsWith('immed[$xfer'))).toHaveLength(2);
    // A map set by an lddw just before a lookup: the call loads its table id itself (relocated), the lddw emits nothing.
    const legacy = find('legacy_maps.o', 'xdp_legacy_count');
    const call = legacy.records.records.find((r) => r.kind.k === 'call')!;
    const lddw = legacy.records.records.filter((r) => r.kind.k === 'lddw' && r.index < call.index).at(-1)!;
    expect(codeOf(legacy, lddw.index)).toEqual([]);
    expect(codeOf(legacy, call.index)).toContain('immed[gprA_0, 0]');
    const at = legacy.card.addressOf.get(call.index)!;
    expect(legacy.card.relocs.some((r) => r.kind === 'map-id' && r.at > at && r.at < at + 5 && r.target === lddw.insn.imm)).toBe(true);
    expect(codeOf(legacy, lddw.index, ['const-src'])).not.toEqual([]);
    // const-exit: r0 = 1 before an exit that sets its code itself is dead.
    const drop = find('basic_actions.o', 'xdp_drop_all');
    expect(codeOf(drop, 0)).toEqual([]);
    expect(codeOf(drop, 1)).toEqual(['immed[gprA_0, 0x22]']);
  });
});
