/**
 * Branch hints: which jump constants are collected (conditional jumps against
 * an immediate, and registers a nearby mov/lddw set), their byte-swapped and
 * boundary forms, and — on a real fixture — that hinted random packets reach
 * branches that random packets alone practically never reach.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emptyHints, hintsFromInsns, isConditionalJumpK, mergeHints, swap16, swap32, type HintInsn } from '../../offload/validate/branch-hints.js';
import { createPacketGenerator } from '../../offload/validate/packet-gen.js';
import { loadObjectFile, selectProgram } from '../../xdp/object/load-object.js';
import { makeInsn, makeLddw } from '../../xdp/isa/insn.js';
import { XdpMachine } from '../../xdp/runtime/xdp-machine.js';
import { FIXTURE_OBJ } from '../support/paths.js';
import { parsePacket } from './packet-parse.js';

const jk = (code: number, imm: number): HintInsn => makeInsn(code, 1, 0, 3, imm);

describe('hintsFromInsns', () => {
  it('takes conditional jumps with an immediate only', () => {
    expect(isConditionalJumpK(0x15)).toBe(true); // jeq K
    expect(isConditionalJumpK(0x16)).toBe(true); // jeq32 K
    expect(isConditionalJumpK(0x45)).toBe(true); // jset K
    expect(isConditionalJumpK(0xd6)).toBe(true); // jsle32 K
    for (const code of [0x05, 0x06, 0x85, 0x95, 0x1d, 0x1e, 0xb7, 0x18, 0x61, 0x07, 0x04]) expect(isConditionalJumpK(code), code.toString(16)).toBe(false);
    const h = hintsFromInsns([
      jk(0x05, 0x1111), // ja (imm is ignored anyway)
      jk(0x85, 0x2222), // call
      jk(0x95, 0x3333), // exit
      jk(0x1d, 0x4444), // jeq X
      jk(0xb7, 0x5555), // mov K (not a jump)
      jk(0x07, 0x6666), // add K
    ]);
    expect(h).toEqual(emptyHints());
  });

  it('records the 16-bit byte swap of 16-bit values, and the 32-bit swap', () => {
    const h = hintsFromInsns([jk(0x55, 0x0008), jk(0x16, 0xdd86)]); // jne K htons(ETH_P_IP), jeq32 K htons(ETH_P_IPV6)
    expect(h.values16).toEqual([0x0008, 0x0800, 0x86dd, 0xdd86]);
    expect(h.values8).toEqual([0x08]);
    expect(h.values32).toEqual([0x0008, 0xdd86, 0x08000000, 0x86dd0000]);
    expect(swap16(0x1234)).toBe(0x3412);
    expect(swap32(0x12345678)).toBe(0x78563412);
    expect(swap32(0xc0000200)).toBe(0x000200c0);
  });

  it('adds both neighbours of an ordering comparison', () => {
    const h = hintsFromInsns([jk(0x25, 5), jk(0xa6, 0x100)]); // jgt K 5, jlt32 K 0x100
    expect(h.values8).toEqual([4, 5, 6, 0xff]);
    expect(h.values16).toContain(0x101);
    expect(h.values16).toContain(0x0001); // swap16(0x100)
  });

  it('takes negative immediates as unsigned 32 bits', () => {
    const h = hintsFromInsns([jk(0x15, -1)]);
    expect(h.values32).toEqual([0xffffffff]);
    expect(h.values16).toEqual([]);
    expect(h.values8).toEqual([]);
  });

  it('follows a register operand to a nearby mov K or lddw', () => {
    const h = hintsFromInsns([
      makeInsn(0xb7, 4, 0, 0, 5), // r4 = 5
      makeInsn(0x71, 3, 1, 0, 0), // r3 = *(u8 *)(r1 + 0)
      makeInsn(0x2d, 4, 3, 2, 0), // if r4 > r3
      makeLddw(2, 0xb80d0120n), // r2 = 0xb80d0120 ll
      makeInsn(0x1d, 1, 2, 1, 0), // if r1 == r2
      makeInsn(0xb7, 5, 0, 0, 0x77), // r5 = 0x77
      makeInsn(0x07, 5, 0, 0, 1), // r5 += 1: no longer the constant
      makeInsn(0x1d, 1, 5, 1, 0), // if r1 == r5
      makeInsn(0xb7, 2, 0, 0, 0x99), // r2 = 0x99
      makeInsn(0x85, 0, 0, 0, 1), // call: r2 clobbered
      makeInsn(0x5d, 1, 2, 1, 0), // if r1 != r2
      makeLddw(6, 0x1_0000_0000n, 1), // r6 = map (pseudo): not a constant
      makeInsn(0x5d, 1, 6, 1, 0), // if r1 != r6
    ]);
    expect(h.values8).toEqual([4, 5, 6]);
    expect(h.values32).toContain(0xb80d0120);
    expect(h.values32).toContain(0x20010db8);
    expect(h.values32).not.toContain(0x77);
    expect(h.values32).not.toContain(0x99);
  });

  it('merges and normalises', () => {
    expect(mergeHints({ values16: [0x1_1234, 2] }, { values8: [0x1ff], values16: [2] }, { values32: [-1] })).toEqual({
      values16: [2, 0x1234],
      values8: [0xff],
      values32: [0xffffffff],
    });
  });
});

describe('hints on a real program (parse_l3.o)', () => {
  const obj = loadObjectFile(join(FIXTURE_OBJ, 'parse_l3.o'));
  const program = selectProgram(obj);
  const hints = hintsFromInsns(program.insns);

  it('finds the EtherTypes, the IHL bound and the documentation prefixes', () => {
    for (const v of [0x0008, 0x0800, 0xdd86, 0x86dd, 0x0081, 0x8100, 0xa888, 0x88a8]) expect(hints.values16, v.toString(16)).toContain(v);
    expect(hints.values8).toEqual(expect.arrayContaining([4, 5, 6]));
    expect(hints.values32).toContain(0xc0000200); // 192.0.2.0 (compared as htonl)
    expect(hints.values32).toContain(0x20010db8); // 2001:db8:: (lddw + register jump)
  });

  it('hinted packets reach the prefix DROPs; the engine runs every packet', () => {
    const machine = new XdpMachine(obj, program, { engine: 'compiled' });
    const run = (withHints: boolean): { v4: number; v6: number; actions: Record<string, number> } => {
      const g = createPacketGenerator({ seed: 21, ...(withHints ? { hints } : {}) });
      const out = { v4: 0, v6: 0, actions: {} as Record<string, number> };
      for (let i = 0; i < 4000; i++) {
        const p = g.next();
        const r = machine.run(p, i);
        out.actions[r.actionName] = (out.actions[r.actionName] ?? 0) + 1;
        if (r.actionName !== 'XDP_DROP') continue;
        const parsed = parsePacket(p);
        const ip6 = parsed.layers.find((l) => l.kind === 'ipv6');
        if (parsed.ipv4Src !== undefined && (parsed.ipv4Src & 0xffffff00) >>> 0 === 0xc0000200) out.v4++;
        if (ip6 && p[ip6.offset + 8] === 0x20 && p[ip6.offset + 9] === 0x01 && p[ip6.offset + 10] === 0x0d && p[ip6.offset + 11] === 0xb8) out.v6++;
      }
      return out;
    };
    const plain = run(false);
    const hinted = run(true);
    for (const r of [plain, hinted]) {
      expect(Object.keys(r.actions).sort()).toEqual(['XDP_DROP', 'XDP_PASS']);
    }
    expect(plain.v4 + plain.v6).toBe(0);
    expect(hinted.v4).toBeGreaterThan(5);
    expect(hinted.v6).toBeGreaterThan(0);
  });
});
