/**
 * Every offload rule with a program that trips it and one that passes
 * (assembly, through the verifier and the rules, on the shipped profiles and
 * on edited copies of them): the verdict, and the rule each reason names.
 */
import { describe, expect, it } from 'vitest';
import { profileFromJson, resolveProfile } from '../../caps/load-profile.js';
import type { CardProfile } from '../../caps/profile.js';
import { decideOffload, verdictExitCode, type OffloadReport } from '../../offload/rules/decide.js';
import { caseObject, type CaseMap } from '../verifier/case-loader.js';

const ARR: CaseMap = { name: 'arr', type: 'ARRAY', keySize: 4, valueSize: 8, maxEntries: 4 };

function decide(asm: string[], caps: string | CardProfile, maps: CaseMap[] = [], section = 'xdp'): OffloadReport {
  const profile = typeof caps === 'string' ? resolveProfile(caps).profile : caps;
  const { object, program } = caseObject({ name: 'rule', asm: asm.join('\n'), maps, section });
  return decideOffload(object, program, profile);
}
const rules = (r: OffloadReport) => r.reasons.map((x) => x.rule);
/** A shipped profile with some fields replaced (checked like any profile file). */
function edited(name: string, change: (p: Record<string, unknown>) => void): CardProfile {
  const doc = structuredClone(resolveProfile(name).profile) as unknown as Record<string, unknown>;
  change(doc);
  return profileFromJson(doc, `${name} (edited)`);
}

const PASS = ['mov %r0, 2', 'exit'];
/** Looks up key 0 of the first map and leaves the value pointer (or NULL) in r0. */
const LOOKUP = ['stw [%r10-4], 0', 'ld_map %r1, 0', 'mov %r2, %r10', 'add %r2, -4', 'call 1'];

describe('offload rules', () => {
  it('a plain program offloads everywhere; exit codes follow the verdict', () => {
    for (const caps of ['nfp-4000', 'hxdp', 'minimal']) expect(decide(PASS, caps).verdict).toBe('offload');
    expect([verdictExitCode('offload'), verdictExitCode('host'), verdictExitCode('reject')]).toEqual([0, 3, 2]);
  });

  it('a program the verifier refuses is rejected, whatever the card', () => {
    const r = decide(['ldxb %r0, [%r1+0]', 'exit'], 'hxdp');
    expect(r.verdict).toBe('reject');
    expect(r.reasons[0]).toMatchObject({ rule: 'verifier', insn: 0 });
  });

  describe('insn-class', () => {
    it('jmp32 on a card without it', () => {
      const prog = ['mov %r0, 2', 'mov %r1, 1', 'jeq32 %r1, 0, out', 'mov %r0, 1', 'out:', 'exit'];
      expect(decide(prog, 'minimal')).toMatchObject({ verdict: 'host' });
      expect(rules(decide(prog, 'minimal'))).toEqual(['insn-class']);
      expect(decide(prog, 'nfp-4000').verdict).toBe('offload');
    });
    it('a loop, a bpf-to-bpf call, a tail call', () => {
      const loop = ['mov %r0, 0', 'mov %r1, 0', 'l:', 'add %r0, 1', 'add %r1, 1', 'jlt %r1, 4, l', 'mov %r0, 2', 'exit'];
      expect(decide(loop, 'minimal').reasons).toEqual([expect.objectContaining({ rule: 'insn-class', insn: 4, message: expect.stringContaining('loop') })]);
      expect(decide(loop, 'nfp-4000').verdict).toBe('offload');
      const call = ['call local f', 'mov %r0, 2', 'exit', 'f:', 'mov %r0, 0', 'exit'];
      expect(rules(decide(call, 'hxdp'))).toEqual(['insn-class']);
      expect(decide(call, 'nfp-4000').verdict).toBe('offload');
      const tail = ['mov %r6, %r1', 'ld_map %r2, 0', 'mov %r3, 0', 'call 12', 'mov %r0, 2', 'exit'];
      expect(rules(decide(tail, 'nfp-4000', [{ name: 'progs', type: 'PROG_ARRAY', keySize: 4, valueSize: 4, maxEntries: 4 }]))).toEqual(
        expect.arrayContaining(['insn-class', 'helper', 'map-type']));
    });
  });

  describe('mul and div', () => {
    const unknown64 = [...LOOKUP, 'jeq %r0, 0, out', 'ldxdw %r1, [%r0+0]'];
    it('multiply only within u32 on nfp-4000; not at all on minimal', () => {
      const wide = [...unknown64, 'mul %r1, 3', 'out:', 'mov %r0, 2', 'exit'];
      const narrow = [...unknown64, 'and %r1, 0xffff', 'mul %r1, 3', 'out:', 'mov %r0, 2', 'exit'];
      expect(decide(wide, 'nfp-4000', [ARR]).reasons).toEqual([expect.objectContaining({ rule: 'mul', insn: 8, text: 'r1 *= 3' })]);
      expect(decide(narrow, 'nfp-4000', [ARR]).verdict).toBe('offload');
      expect(decide(narrow, 'hxdp', [ARR]).verdict).toBe('offload');
      expect(rules(decide(['mov %r0, 2', 'mul %r0, 1', 'exit'], 'minimal'))).toEqual(['mul']);
    });
    it('divide only a u32 by a u32 constant on nfp-4000', () => {
      const byReg = [...unknown64, 'and %r1, 0xffff', 'mov %r2, 7', 'ldxdw %r3, [%r0+0]', 'div %r1, %r3', 'out:', 'mov %r0, 2', 'exit'];
      const byConst = [...unknown64, 'and %r1, 0xffff', 'div %r1, 7', 'out:', 'mov %r0, 2', 'exit'];
      const wideDividend = [...unknown64, 'div %r1, 7', 'out:', 'mov %r0, 2', 'exit'];
      expect(decide(byReg, 'nfp-4000', [ARR]).reasons).toEqual([expect.objectContaining({ rule: 'div', message: expect.stringContaining('constant') })]);
      expect(decide(byConst, 'nfp-4000', [ARR]).verdict).toBe('offload');
      expect(decide(wideDividend, 'nfp-4000', [ARR]).reasons).toEqual([expect.objectContaining({ rule: 'div', message: expect.stringContaining('dividend') })]);
      expect(decide(byReg, 'hxdp', [ARR]).verdict).toBe('offload');
    });
  });

  describe('atomic', () => {
    const onValue = (op: string) => [...LOOKUP, 'jeq %r0, 0, out', 'mov %r1, 1', `lock ${op} [%r0+0], %r1`, 'out:', 'mov %r0, 2', 'exit'];
    it('add on a map value passes; other operations, fetching forms and the stack do not', () => {
      expect(decide(onValue('add'), 'nfp-4000', [ARR]).verdict).toBe('offload');
      // Both problems of the one instruction, in one reason (one per instruction per rule).
      expect(decide(onValue('xchg'), 'nfp-4000', [ARR]).reasons.map((r) => r.message)).toEqual([
        expect.stringMatching(/atomic xchg is not supported.*; .*fetch/),
      ]);
      expect(rules(decide(onValue('fetch add'), 'nfp-4000', [ARR]))).toEqual(['atomic']);
      const onStack = ['stdw [%r10-8], 0', 'mov %r1, 1', 'lock add [%r10-8], %r1', 'mov %r0, 2', 'exit'];
      expect(decide(onStack, 'nfp-4000').reasons).toEqual([expect.objectContaining({ rule: 'atomic', message: expect.stringContaining('the stack') })]);
    });
  });

  describe('helpers', () => {
    it('a helper the card lacks, by name and id', () => {
      const r = decide(['call 5', 'mov %r0, 2', 'exit'], 'nfp-4000');
      expect(r).toMatchObject({ verdict: 'host', reasons: [{ rule: 'helper', insn: 0, message: 'bpf_ktime_get_ns (id 5) is not available on nfp-4000' }] });
      expect(decide(['call 5', 'mov %r0, 2', 'exit'], 'hxdp').verdict).toBe('offload');
    });
    it('perf_event_output only with BPF_F_CURRENT_CPU', () => {
      const perf = (flags: string) => ['stdw [%r10-8], 0', 'ld_map %r2, 0', ...flags.split(';'), 'mov %r4, %r10', 'add %r4, -8', 'mov %r5, 8', 'call 25', 'mov %r0, 2', 'exit'];
      const events: CaseMap = { name: 'events', type: 'PERF_EVENT_ARRAY', keySize: 4, valueSize: 4, maxEntries: 4 };
      expect(decide(perf('mov %r3, 0'), 'nfp-4000', [events]).reasons).toEqual([expect.objectContaining({ rule: 'helper-arg', message: expect.stringContaining('BPF_F_CURRENT_CPU') })]);
      expect(decide(perf('mov32 %r3, -1'), 'nfp-4000', [events]).verdict).toBe('offload');
      // The upper half carries the sample length (BPF_F_CTXLEN_MASK), as xdpdump-style programs do:
      // only the low 32 bits must say BPF_F_CURRENT_CPU (nfp_bpf_check_helper_call), even when the
      // length is not a constant.
      expect(decide(perf('lddw %r3, 0x40ffffffff'), 'nfp-4000', [events]).verdict).toBe('offload');
      const lengthUnknown = ['mov %r6, %r1', 'call 7', 'mov %r3, %r0', 'lsh %r3, 32', 'mov32 %r7, -1', 'or %r3, %r7', 'stdw [%r10-8], 0',
        'mov %r1, %r6', 'ld_map %r2, 0', 'mov %r4, %r10', 'add %r4, -8', 'mov %r5, 8', 'call 25', 'mov %r0, 2', 'exit'];
      expect(rules(decide(lengthUnknown, 'nfp-4000', [events]))).not.toContain('helper-arg');
      expect(decide(perf('lddw %r3, 0x40fffffffe'), 'nfp-4000', [events]).reasons).toEqual([
        expect.objectContaining({ rule: 'helper-arg', message: expect.stringContaining('the low 32 bits of the flags must be BPF_F_CURRENT_CPU') }),
      ]);
    });
    it('map keys from the stack at a constant 4-aligned offset', () => {
      const keyInValue = [...LOOKUP, 'jeq %r0, 0, out', 'mov %r2, %r0', 'ld_map %r1, 0', 'call 1', 'out:', 'mov %r0, 2', 'exit'];
      expect(decide(keyInValue, 'nfp-4000', [ARR]).reasons).toEqual([expect.objectContaining({ rule: 'helper-arg', message: expect.stringContaining('key must be on the stack') })]);
      expect(decide([...LOOKUP, 'mov %r0, 2', 'exit'], 'nfp-4000', [ARR]).verdict).toBe('offload');
    });
    it('adjust_head needs a firmware without front metadata', () => {
      const prog = ['mov %r6, %r1', 'mov %r2, -20', 'call 44', 'mov %r0, 2', 'exit'];
      expect(decide(prog, 'nfp-4000').verdict).toBe('offload');
      const meta = edited('nfp-4000', (p) => { (p.adjustHead as Record<string, unknown>).noMeta = false; });
      expect(rules(decide(prog, meta))).toEqual(['adjust-head']);
      const none = edited('nfp-4000', (p) => { Object.assign(p.adjustHead as object, { offMin: 0, offMax: 0 }); });
      expect(decide(prog, none).reasons).toEqual([expect.objectContaining({ rule: 'adjust-head', message: expect.stringContaining('off_max 0') })]);
      expect(rules(decide(prog, 'minimal'))).toEqual(['helper']);
    });
  });

  describe('maps', () => {
    it('a type the card cannot offload, with the one to use instead', () => {
      const percpu: CaseMap = { ...ARR, type: 'PERCPU_ARRAY' };
      expect(decide([...LOOKUP, 'mov %r0, 2', 'exit'], 'nfp-4000', [percpu]).reasons).toEqual([
        expect.objectContaining({ rule: 'map-type', message: "map 'arr': PERCPU_ARRAY is not offloadable on nfp-4000", suggestion: 'use ARRAY' }),
      ]);
    });
    it('every limit: value size, element size, map count, total entries', () => {
      const prog = (n: number) => [...Array.from({ length: n }, (_, i) => [`ld_map %r1, ${i}`]).flat(), ...LOOKUP, 'mov %r0, 2', 'exit'];
      expect(decide(prog(1), 'minimal', [ARR]).verdict).toBe('offload');
      const big = decide(prog(1), 'minimal', [{ ...ARR, valueSize: 16, maxEntries: 100 }]);
      expect(big.reasons.map((r) => r.message)).toEqual([
        "map 'arr': value of 16 bytes is over minimal's 8",
        "map 'arr': element of 24 bytes (key and value each rounded up to 8) is over minimal's 16",
        '100 map entries in all, minimal holds 64',
      ]);
      const three = decide(prog(3), 'minimal', [ARR, { ...ARR, name: 'b' }, { ...ARR, name: 'c' }]);
      expect(three.reasons.map((r) => r.message)).toContain('3 maps, minimal holds 2');
      expect(three.resources.maps).toEqual({ used: 3, limit: 2 });
    });
  });

  describe('memory', () => {
    it('one pointer type per load on every path', () => {
      // The key is a constant below max_entries: the lookup cannot fail, r0 is a map value.
      const prog = [...LOOKUP, 'mov %r6, %r0', 'call 7', 'mov %r1, %r10', 'add %r1, -8', 'stdw [%r10-8], 0', 'jgt %r0, 10, use', 'mov %r1, %r6', 'use:', 'ldxdw %r2, [%r1+0]', 'mov %r0, 2', 'exit'];
      const r = decide(prog, 'nfp-4000', [ARR]);
      expect(r.reasons).toEqual([expect.objectContaining({ rule: 'pointer-type', insn: 13, message: expect.stringMatching(/\((fp, map_value|map_value, fp)\)/) })]);
      const oneType = [...LOOKUP, 'jeq %r0, 0, out', 'mov %r1, %r0', 'ldxdw %r2, [%r1+0]', 'out:', 'mov %r0, 2', 'exit'];
      expect(decide(oneType, 'nfp-4000', [ARR]).verdict).toBe('offload');
      const meta = ['ldxw %r2, [%r1+8]', 'ldxw %r3, [%r1+0]', 'mov %r4, %r2', 'add %r4, 4', 'jgt %r4, %r3, out', 'ldxw %r0, [%r2+0]', 'out:', 'mov %r0, 2', 'exit'];
      expect(decide(meta, 'nfp-4000').reasons).toEqual([
        expect.objectContaining({ rule: 'ctx-load', insn: 0, message: 'reads xdp_md.data_meta: nfp-4000 gives a program only data and data_end' }),
        expect.objectContaining({ rule: 'pointer-type', message: 'access through a pkt_meta pointer is not supported on nfp-4000' }),
      ]);
    });
    it('stack accesses at one constant offset', () => {
      const prog = ['call 7', 'stdw [%r10-16], 0', 'stdw [%r10-8], 0', 'mov %r1, %r10', 'add %r1, -8', 'jgt %r0, 10, use', 'add %r1, -8', 'use:', 'ldxdw %r2, [%r1+0]', 'mov %r0, 2', 'exit'];
      expect(decide(prog, 'nfp-4000', [ARR]).reasons).toEqual([expect.objectContaining({ rule: 'stack-offset', message: expect.stringMatching(/\((fp-16, fp-8|fp-8, fp-16)\)/) })]);
      const same = [...LOOKUP, 'stdw [%r10-8], 0', 'mov %r1, %r10', 'jeq %r0, 0, use', 'mov %r2, 1', 'use:', 'ldxdw %r2, [%r1-8]', 'mov %r0, 2', 'exit'];
      expect(decide(same, 'nfp-4000', [ARR]).verdict).toBe('offload');
    });
    it('stack per call chain in the card\'s frames', () => {
      expect(decide(['stdw [%r10-64], 0', 'mov %r0, 2', 'exit'], 'minimal').verdict).toBe('offload');
      const r = decide(['stdw [%r10-72], 0', 'mov %r0, 2', 'exit'], 'minimal');
      expect(r.reasons).toEqual([expect.objectContaining({ rule: 'stack-size', message: expect.stringContaining('128 bytes') })]);
      expect(r.resources.stack).toEqual({ used: 128, limit: 64, frameBytes: 64 });
    });
    it('packet bytes beyond the on-chip split', () => {
      const read = (at: number) => ['ldxw %r2, [%r1+0]', 'ldxw %r3, [%r1+4]', 'mov %r4, %r2', `add %r4, ${at + 1}`, 'jgt %r4, %r3, out', `ldxb %r0, [%r2+${at}]`, 'out:', 'mov %r0, 2', 'exit'];
      expect(decide(read(50), 'minimal').verdict).toBe('offload');
      expect(decide(read(100), 'minimal').reasons).toEqual([expect.objectContaining({ rule: 'packet-split', insn: 5, message: 'packet access up to byte 101 is beyond the 96 bytes minimal keeps on-chip' })]);
    });
    it('rx_queue_index stores only with QUEUE_SELECT; the host cannot run them at all', () => {
      const prog = ['stw [%r1+16], 1', 'mov %r0, 2', 'exit'];
      expect(decide(prog, 'nfp-4000').verdict).toBe('offload');
      const r = decide(prog, 'hxdp');
      expect(r.verdict).toBe('reject');
      expect(rules(r)).toEqual(['ctx-store', 'verifier']);
      expect(decide(['stw [%r1+12], 1', 'mov %r0, 2', 'exit'], 'nfp-4000').verdict).toBe('reject');
    });
  });

  describe('attach', () => {
    it('multi-buffer (xdp.frags) and devmap/cpumap programs are never offloaded, on any card', () => {
      for (const [section, what] of [['xdp.frags', /BPF_F_XDP_HAS_FRAGS/], ['xdp/devmap', /devmap program/], ['xdp/cpumap', /cpumap program/]] as const) {
        for (const caps of ['nfp-4000', 'hxdp']) {
          const r = decide(['mov %r0, 2', 'exit'], caps, [], section);
          expect(r.reasons, `${section} on ${caps}`).toEqual([expect.objectContaining({ rule: 'attach', message: expect.stringMatching(what) })]);
        }
      }
      expect(decide(['mov %r0, 2', 'exit'], 'nfp-4000', [], 'xdp').verdict).toBe('offload');
    });
  });

  describe('context loads', () => {
    it('only data and data_end on the NFP (mem_ldx_xdp); every field where the profile reads them all', () => {
      for (const [off, field] of [[8, 'data_meta'], [12, 'ingress_ifindex'], [16, 'rx_queue_index']] as const) {
        const prog = [`ldxw %r2, [%r1+${off}]`, 'mov %r0, 2', 'exit'];
        expect(decide(prog, 'nfp-4000').reasons).toEqual([expect.objectContaining({ rule: 'ctx-load', insn: 0, message: `reads xdp_md.${field}: nfp-4000 gives a program only data and data_end` })]);
        const all = edited('nfp-4000', (p) => { (p.isa as Record<string, unknown>).ctxAllFields = true; });
        expect(decide(prog, all).verdict).toBe('offload');
      }
      expect(decide(['ldxw %r2, [%r1+0]', 'ldxw %r3, [%r1+4]', 'mov %r0, 2', 'exit'], 'nfp-4000').verdict).toBe('offload');
    });
  });

  describe('action', () => {
    it('a return code the card does not carry out; one the verifier cannot pin is no reason (the card drops unknown codes)', () => {
      expect(decide(['mov %r0, 3', 'exit'], 'minimal').reasons).toEqual([expect.objectContaining({ rule: 'action', message: expect.stringMatching(/^returns XDP_TX/) })]);
      expect(decide(['mov %r0, 4', 'exit'], 'nfp-4000').reasons).toEqual([expect.objectContaining({ rule: 'action', message: expect.stringMatching(/^returns XDP_REDIRECT/) })]);
      expect(decide(['mov %r0, 4', 'exit'], 'hxdp').verdict).toBe('offload');
      const fromMap = [...LOOKUP, 'mov %r1, %r0', 'mov %r0, 1', 'jeq %r1, 0, out', 'ldxw %r0, [%r1+0]', 'out:', 'exit'];
      expect(decide(fromMap, 'nfp-4000', [ARR]).verdict).toBe('offload');
    });
  });

  it('program size against the card\'s limit: the JIT\'s count (prefetch pad included), an estimate where it does not translate', () => {
    // r0 = the packet's length + 60, & 3: nothing the verifier can pin, so every add stays.
    const long = ['ldxw %r2, [%r1+4]', 'ldxw %r3, [%r1+0]', 'mov %r0, %r2', 'sub %r0, %r3', ...Array.from({ length: 60 }, () => 'add %r0, 1'), 'and %r0, 3', 'exit'];
    const r = decide(long, 'minimal');
    // 1 (data_end: data + len) + 1 (data) + 1 (the move and the subtraction fused, the low word alone: the action is
    // 32-bit) + 60 × 1 (adds, low words) + 1 (and) + 0 (exit: the outro follows) + 6 (outro: r0 is in [0, 3], the
    // table without the range check) + 8 (pad).
    expect(r.reasons).toEqual([expect.objectContaining({ rule: 'program-size', message: 'program too long: 78 card instructions (limit 64)' })]);
    expect(r.resources.programSize).toMatchObject({ used: 78, limit: 64, estimate: false, ebpfInsns: 66 });
    const onHxdp = decide(long, 'hxdp');
    expect(onHxdp.resources.programSize).toMatchObject({ estimate: true, ebpfInsns: 66 });
  });

  it('collects every reason, not just the first', () => {
    const prog = ['call 5', 'mov %r1, 3', 'mul %r1, 3', 'mov %r0, 3', 'exit'];
    expect(rules(decide(prog, 'minimal'))).toEqual(['helper', 'mul', 'action']);
  });
});
