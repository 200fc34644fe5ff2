/**
 * Mutation testing of the validator: for each class of lowering (ALU, shift,
 * compare-and-branch, packet load — plain and from the packet-read cache — packet
 * store, stack, map call, action code) a
 * wrong translation is injected into the image — one card instruction of one eBPF
 * instruction changed the way a JIT bug would change it — and `validate` must report
 * a mismatch and name that eBPF instruction (for the action code: the program's
 * exit). Each class is tried on several instructions of the fixtures; the detection
 * rate (caught, and caught-and-named) is printed per class. A mutation can be
 * harmless (an ALU result no later instruction reads, a shift of a value masked
 * afterwards): those are counted, not failed, but every class must have caught and
 * named mutations.
 */
import { join } from 'node:path';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { resolveProfile } from '../../caps/load-profile.js';
import type { CardImage } from '../../nic-sim/image/index.js';
import { decodeWord, encodeInsn, type Insn } from '../../nic-sim/isa/index.js';
import { jitProgram } from '../../offload/jit/jit-program.js';
import type { PassName } from '../../offload/jit/translate.js';
import { createPacketGenerator } from '../../offload/validate/packet-gen.js';
import { hintsFromInsns } from '../../offload/validate/branch-hints.js';
import { validate, type ValidatePacket } from '../../offload/validate/validate.js';
import type { InsnRecord } from '../../offload/verifier/insn-records.js';
import { findPrograms, loadObjectFile } from '../../xdp/object/load-object.js';
import { openCapture } from '../../xdp/pcap/capture.js';
import { REPO } from '../support/paths.js';

const { profile } = resolveProfile('nfp-4000');
const PCAPS = join(REPO, 'fixtures', 'pcap');
const capture = readdirSync(PCAPS).filter((f) => f.endsWith('.pcap')).sort()
  .flatMap((f) => [...openCapture(join(PCAPS, f))].map((r) => r.data.slice()));

type Mutate = (i: Insn) => Insn | undefined;

interface MutationClass {
  readonly name: string;
  readonly fixtures: readonly string[];
  /** Is this eBPF instruction of the class? */
  readonly picks: (r: InsnRecord) => boolean;
  /** The card instruction to change among the instruction's code, and how (undefined: not this one). */
  readonly mutate: Mutate;
  /** Names the exit rather than the mutated instruction (the outro is shared code). */
  readonly outro?: boolean;
  /** Passes off for this class (a cached packet read serves several loads: the plain lowering is tried alone). */
  readonly noOpt?: readonly PassName[];
}

const types = (r: InsnRecord, reg: number): string => [...(r.reads[reg]?.types ?? [])].join('|');
const OTHER_OP: Readonly<Record<string, 'sub' | 'add' | 'or' | 'xor' | 'and'>> = { add: 'sub', sub: 'add', and: 'or', or: 'xor', xor: 'and', add_c: 'add', sub_c: 'sub' } as const;
const FLIP: Readonly<Record<string, string>> = { eq: 'ne', ne: 'eq', lo: 'hs', hs: 'lo', lt: 'ge', ge: 'lt', mi: 'pl', pl: 'mi' };

const CLASSES: readonly MutationClass[] = [
  {
    name: 'ALU', fixtures: ['parse_l3.o', 'firewall_5tuple.o', 'ipip_encap.o'],
    picks: (r) => r.kind.k === 'alu' && ['add', 'sub', 'and', 'or', 'xor'].includes(r.kind.op),
    mutate: (i) => (i.cls === 'alu' && OTHER_OP[i.op] ? { ...i, op: OTHER_OP[i.op]! } : undefined),
  },
  {
    name: 'shift', fixtures: ['subprog_call.o', 'ipip_encap.o', 'parse_l3.o', 'rw_tcp_options.o'],
    picks: (r) => r.kind.k === 'alu' && ['lsh', 'rsh', 'arsh'].includes(r.kind.op) && !r.kind.useReg,
    mutate: (i) => (i.cls === 'alu_shf' && typeof i.shift === 'number' && i.shift > 0 ? { ...i, shift: i.shift === 31 ? 30 : i.shift + 1 } : undefined),
  },
  {
    name: 'compare-and-branch', fixtures: ['parse_l3.o', 'alu32_jmp32.o', 'firewall_5tuple.o'],
    picks: (r) => r.kind.k === 'jcond',
    mutate: (i) => (i.cls === 'br' && FLIP[i.cond] ? { ...i, cond: FLIP[i.cond] as never } : undefined),
  },
  {
    name: 'packet load', fixtures: ['parse_l3.o', 'firewall_5tuple.o', 'alu32_jmp32.o'], noOpt: ['pkt-cache'],
    picks: (r) => r.kind.k === 'ldx' && types(r, r.insn.src) === 'pkt',
    mutate: (i) => (i.cls === 'cmd' && i.b.k === 'imm' && i.b.value < 0x7f ? { ...i, b: { k: 'imm', value: i.b.value + 1 } } : undefined),
  },
  {
    name: 'packet load (cached)', fixtures: ['parse_l3.o', 'rodata_config.o', 'rw_tcp_options.o', 'alu32_jmp32.o', 'firewall_5tuple.o'],
    picks: (r) => r.kind.k === 'ldx' && types(r, r.insn.src) === 'pkt',
    // The bytes taken out of the window: the next byte lane.
    mutate: (i) => (i.cls === 'ld_field' && i.b.k === 'xfer' && i.shift < 24 ? { ...i, sc: 'shr', shift: i.shift + 8 } : undefined),
  },
  {
    name: 'packet store', fixtures: ['mac_swap_tx.o', 'ipip_encap.o'],
    picks: (r) => (r.kind.k === 'stx' || r.kind.k === 'st') && types(r, r.insn.dst) === 'pkt',
    mutate: (i) => (i.cls === 'cmd' && i.b.k === 'imm' && i.b.value < 0x7f ? { ...i, b: { k: 'imm', value: i.b.value + 1 } } : undefined),
  },
  {
    name: 'stack', fixtures: ['mac_swap_tx.o', 'firewall_5tuple.o', 'ipip_encap.o'],
    picks: (r) => (r.kind.k === 'stx' || r.kind.k === 'st') && (r.insn.dst === 10 || types(r, r.insn.dst) === 'fp'),
    mutate: (i) => {
      if (i.cls === 'alu' && i.dst.k === 'lm') return { ...i, dst: { ...i.dst, off: i.dst.off ^ 1 } };
      if (i.cls === 'ld_field' && i.a.k === 'lm') return { ...i, byteMask: i.byteMask === 0b0001 ? 0b0010 : 0b0001 };
      if (i.cls === 'immed' && i.dst.k === 'lm') return { ...i, value: i.value ^ 1 };
      return undefined;
    },
  },
  {
    name: 'map call', fixtures: ['firewall_5tuple.o', 'proto_count_array.o', 'legacy_maps.o', 'rw_nfp_verdicts.o'],
    picks: (r) => r.kind.k === 'call' && r.insn.imm === 1,
    // The key pointer taken from r3 instead of r2.
    mutate: (i) => (i.cls === 'local_csr' && i.write && i.csr === 'ACT_LM_ADDR0' && i.src.k === 'gpr' ? { ...i, src: { ...i.src, n: 6 } } : undefined),
  },
  {
    name: 'action code', fixtures: ['parse_l3.o', 'mac_swap_tx.o', 'basic_actions.o', 'firewall_5tuple.o', 'ipip_encap.o'], outro: true,
    picks: (r) => r.kind.k === 'exit' && r.programExit,
    // The outro's table of action codes with pass and tx swapped (its high half, 0x4411 → 0x1144), the
    // drop/pass outro's constant doubled, or,
    // where const-exit left the outro out, an exit's own action code swapped (pass ↔ tx, drop ↔ aborted).
    mutate: (i) => {
      // outro-range's drop/pass outro (0x44 >> r0): 0x88 >> r0 gives tx for drop, drop for pass.
      if (i.cls === 'alu_shf' && i.b.k === 'imm' && i.b.value === 0x44) return { ...i, b: { k: 'imm', value: 0x88 } };
      if (i.cls !== 'immed') return undefined;
      if (i.value === 0x4411) return { ...i, value: 0x1144 };
      const swapped: Record<number, number> = { 0x11: 0x44, 0x44: 0x11, 0x22: 0x82, 0x82: 0x22 };
      return i.dst.k === 'gpr' && i.dst.n === 0 && i.dst.bank === 'a' && swapped[i.value] !== undefined ? { ...i, value: swapped[i.value]! } : undefined;
    },
  },
];

function packetsFor(insns: Parameters<typeof hintsFromInsns>[0]): ValidatePacket[] {
  const gen = createPacketGenerator({ seed: 5, hints: hintsFromInsns(insns) });
  return [
    ...capture.map((data, n): ValidatePacket => ({ data, source: 'pcap', n })),
    ...Array.from({ length: 300 }, (_, n): ValidatePacket => ({ data: gen.next(), source: 'random', n })),
  ];
}

interface Outcome {
  readonly where: string;
  readonly caught: boolean;
  readonly named: boolean;
  readonly blamed?: number;
}

/** Up to `limit` mutations of a class: each one image with one card instruction changed. */
function runClass(c: MutationClass, limit: number): Outcome[] {
  const out: Outcome[] = [];
  for (const fixture of c.fixtures) {
    const obj = loadObjectFile(join(REPO, 'fixtures', 'obj', fixture));
    for (const program of findPrograms(obj)) {
      let jit;
      try {
        jit = jitProgram(obj, program, profile, { noOpt: new Set(c.noOpt ?? []) });
      } catch {
        continue;
      }
      const packets = packetsFor(program.insns);
      for (const rec of jit.records.records.filter((r) => r.visits > 0 && c.picks(r))) {
        if (out.length >= limit) return out;
        const code = [...jit.image.code];
        // The card instructions of this eBPF instruction (or, for the action code, the shared outro).
        const pcs = jit.image.source.flatMap((idx, pc) => (((c.outro && idx === -1 && pc >= jit.card.outroPc) || idx === rec.index) ? [pc] : []));
        const pc = pcs.find((p) => c.mutate(decodeWord(code[p]!, p)) !== undefined);
        if (pc === undefined) continue;
        code[pc] = encodeInsn(c.mutate(decodeWord(code[pc]!, pc))!, pc);
        const image: CardImage = { ...jit.image, code };
        const report = validate({ obj, program, profile, image, records: jit.records, file: fixture, seed: 5 }, packets, { shrinkTries: 60 });
        const blamed = report.first?.divergence?.insn;
        // The outro is shared: the right answer is the exit the packet took.
        const named = c.outro ? blamed !== undefined && jit.records.at(blamed)?.kind.k === 'exit' : blamed === rec.index;
        out.push({ where: `${fixture}:${program.name} insn ${c.outro ? 'exit' : rec.index} (card ${pc})`, caught: report.mismatches > 0, named, ...(blamed !== undefined ? { blamed } : {}) });
        if (c.outro) break;
      }
    }
  }
  return out;
}

describe('mutation testing: a wrong translation is caught and the right eBPF instruction named', () => {
  const rates: string[] = [];
  it.each(CLASSES)('$name', (c) => {
    const outcomes = runClass(c, 6);
    const caught = outcomes.filter((o) => o.caught);
    const named = caught.filter((o) => o.named);
    rates.push(`${c.name.padEnd(20)} ${outcomes.length} mutations, caught ${caught.length} (${((100 * caught.length) / Math.max(1, outcomes.length)).toFixed(0)}%), named ${named.length} of those`);
    console.log(`mutation ${rates.at(-1)}\n${outcomes.map((o) => `  ${o.caught ? (o.named ? 'caught, named' : `caught, blamed ${o.blamed}`) : 'NOT caught'}: ${o.where}`).join('\n')}`);
    expect(outcomes.length, `mutations of class ${c.name}`).toBeGreaterThan(0);
    expect(named.length, `${c.name}: caught and named`).toBeGreaterThan(0);
    // Of what is caught, the validator names the mutated instruction (or the exit, for the action code) every time.
    expect(named.map((o) => o.where)).toEqual(caught.map((o) => o.where));
  }, 60_000);
});
