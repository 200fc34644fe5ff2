/** Memory commands: byte order, lengths, write back, atomic add, address modes, indirect length, counters. */
import { describe, expect, it } from 'vitest';
import { expectError, hex, runAsm, runError } from './run-asm.js';

/** A 16-byte CTM holding 0x10..0x1f. */
const ctm16 = (): Uint8Array => Uint8Array.from({ length: 16 }, (_, i) => 0x10 + i);

const xin = (s: { xferIn: Uint32Array }, n: number): string[] => [...s.xferIn.subarray(0, n)].map(hex);

describe('reads into transfer-in', () => {
  const read = (text: string, addr: number) =>
    runAsm(text, (s) => { s.gprA[1] = addr; }, { mem: { ctm: ctm16() } });

  it('read32 of 8 bytes: big-endian words', () => {
    const r = read('ctm[read32, $xfer_0, gprA_1, 0, 2], ctx_swap[sig1]', 4);
    expect(xin(r.s, 2)).toEqual(['0x14151617', '0x18191a1b']);
    expect(r.counters.commands.ctm.read32).toBe(1);
    expect(r.counters.ctxSwaps).toBe(1);
    expect(r.counters.byClass.cmd).toBe(1);
  });

  it('read32_swap: little-endian words', () => {
    expect(xin(read('ctm[read32_swap, $xfer_0, gprA_1, 0, 2], ctx_swap[sig1]', 4).s, 2)).toEqual(['0x17161514', '0x1b1a1918']);
  });

  it('read8 of 6 bytes: lanes from bits 31..24, the rest zero; _swap from bits 7..0', () => {
    const pre = (s: { xferIn: Uint32Array; gprA: Uint32Array }) => { s.xferIn.fill(0xeeeeeeee); s.gprA[1] = 1; };
    const be = runAsm('ctm[read8, $xfer_0, gprA_1, 0, 6], ctx_swap[sig1]', pre, { mem: { ctm: ctm16() } });
    expect(xin(be.s, 3)).toEqual(['0x11121314', '0x15160000', '0xeeeeeeee']);
    const le = runAsm('ctm[read8_swap, $xfer_0, gprA_1, 0, 6], ctx_swap[sig1]', pre, { mem: { ctm: ctm16() } });
    expect(xin(le.s, 2)).toEqual(['0x14131211', '0x1615']);
  });

  it('the address is A + B mod 2^32, and the first transfer register is the instruction\'s', () => {
    const r = runAsm('ctm[read32, $xfer_5, gprA_1, gprB_1, 1], ctx_swap[sig1]', (s) => { s.gprA[1] = 0xfffffffc; s.gprB[1] = 12; }, { mem: { ctm: ctm16() } });
    expect(hex(r.s.xferIn[5] as number)).toBe('0x18191a1b');
  });
});

describe('writes from transfer-out', () => {
  const write = (text: string) =>
    runAsm(`alu[$xfer_0, --, B, gprB_1]\n${text}`, (s) => { s.gprA[1] = 4; s.gprB[1] = 0xdeadbeef; }, { mem: { ctm: ctm16() } }).s.mem.ctm;

  it('write32 / write32_swap / write8 / write8_swap', () => {
    expect([...write('ctm[write32, $xfer_0, gprA_1, 0, 1]').subarray(3, 9)]).toEqual([0x13, 0xde, 0xad, 0xbe, 0xef, 0x18]);
    expect([...write('ctm[write32_swap, $xfer_0, gprA_1, 0, 1]').subarray(3, 9)]).toEqual([0x13, 0xef, 0xbe, 0xad, 0xde, 0x18]);
    expect([...write('ctm[write8, $xfer_0, gprA_1, 0, 3]').subarray(3, 9)]).toEqual([0x13, 0xde, 0xad, 0xbe, 0x17, 0x18]);
    expect([...write('ctm[write8_swap, $xfer_0, gprA_1, 0, 3]').subarray(3, 9)]).toEqual([0x13, 0xef, 0xbe, 0xad, 0x17, 0x18]);
  });

  it('read 8 bytes, copy in → out, write them back elsewhere', () => {
    const r = runAsm(`ctm[read32, $xfer_0, gprA_1, 0, 2], ctx_swap[sig1]
                      alu[$xfer_0, --, B, $xfer_0]
                      alu[$xfer_1, --, B, $xfer_1]
                      ctm[write32, $xfer_0, gprA_1, 4, 2], ctx_swap[sig2]`, (s) => { s.gprA[1] = 4; }, { mem: { ctm: ctm16() } });
    expect([...r.s.mem.ctm.subarray(8, 16)]).toEqual([0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b]);
    expect(r.counters.commands.ctm).toMatchObject({ read32: 1, write32: 1 });
    expect(r.counters.ctxSwaps).toBe(2);
  });
});

describe('atomic add, address modes, indirect length', () => {
  it('add32 in EMEM, big-endian and swapped, wrapping mod 2^32', () => {
    const emem = new Uint8Array(64);
    emem.set([0, 0, 0, 0xff], 0x10);
    emem.set([0xff, 0xff, 0xff, 0xff], 0x20);
    const r = runAsm(`emem[add32, $xfer_0, gprA_1, 0, 1], ctx_swap[sig1]
                      emem[add32_swap, $xfer_1, gprA_2, 0, 1], ctx_swap[sig2]`, (s) => {
      s.gprA[1] = 0x10; s.gprA[2] = 0x20; s.xferOut[0] = 1; s.xferOut[1] = 2;
    }, { mem: { emem } });
    expect([...emem.subarray(0x10, 0x14)]).toEqual([0, 0, 1, 0]);
    expect([...emem.subarray(0x20, 0x24)]).toEqual([1, 0, 0, 0]);
    expect(r.counters.commands.emem.add32).toBe(2);
  });

  it('add64 carries from the low word into the high word, in both byte orders', () => {
    const emem = new Uint8Array(64);
    emem.set([0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0], 0x10); // little-endian 0x1_ffffffff
    emem.set([0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff], 0x20); // big-endian 0xffffffff (high word first)
    const r = runAsm(`emem[add64_swap, $xfer_0, gprA_1, 0, 1], ctx_swap[sig1]
                      emem[add64, $xfer_2, gprA_2, 0, 1], ctx_swap[sig2]`, (s) => {
      s.gprA[1] = 0x10; s.gprA[2] = 0x20; s.xferOut[0] = 1; s.xferOut[1] = 2; s.xferOut[2] = 1; s.xferOut[3] = 0;
    }, { mem: { emem } });
    expect([...emem.subarray(0x10, 0x18)]).toEqual([0, 0, 0, 0, 4, 0, 0, 0]);
    expect([...emem.subarray(0x20, 0x28)]).toEqual([0, 0, 0, 1, 0, 0, 0, 0]);
    expect(r.counters.commands.emem.add64).toBe(2);
  });

  it('40-bit addresses: addr40_ba takes the high byte from B, addr40_ab from A', () => {
    const emem = Uint8Array.from({ length: 0x40 }, (_, i) => i);
    const r = runAsm('emem[read32_swap, $xfer_0, gprA_0, gprB_1, 2], ctx_swap[sig1], addr40_ba', (s) => { s.gprA[0] = 0x20; }, { mem: { emem } });
    expect(xin(r.s, 2)).toEqual(['0x23222120', '0x27262524']);
    const e = runError('emem[read32, $xfer_0, gprA_0, gprB_1, 1], ctx_swap[sig1], addr40_ab', (s) => { s.gprA[0] = 0x101; s.gprB[1] = 8; }, { mem: { emem } });
    expectError(e, 'memory', 'pc 0 `emem[read32, $xfer_0, gprA_0, gprB_1, 1], ctx_swap[sig1], addr40_ab`: emem access 0x100000008+4 is outside the region (0x40 bytes)');
  });

  it('indirect_ref takes the length from prevResult when CMD_OVE_LEN is set', () => {
    const run = (value: string) =>
      runAsm(`immed[--, ${value}]\nctm[read32, $xfer_0, 0, 0, 1], ctx_swap[sig1], indirect_ref`, (s) => { s.xferIn.fill(7); }, { mem: { ctm: ctm16() } }).s;
    expect(xin(run('0x280'), 4)).toEqual(['0x10111213', '0x14151617', '0x18191a1b', '0x7']);
    expect(xin(run('0x200'), 2)).toEqual(['0x10111213', '0x7']);
  });

  it('cls and imem are regions of their own', () => {
    const r = runAsm(`cls[write32, $xfer_0, 0, 0, 1]
                      imem[write8, $xfer_0, 2, 0, 1]`, (s) => { s.xferOut[0] = 0x01020304; }, { mem: { cls: new Uint8Array(4), imem: new Uint8Array(4) } });
    expect([...r.s.mem.cls]).toEqual([1, 2, 3, 4]);
    expect([...r.s.mem.imem]).toEqual([0, 0, 1, 0]);
    expect(r.counters.commands.cls.write32).toBe(1);
    expect(r.counters.commands.imem.write8).toBe(1);
    expect(r.counters.ctxSwaps).toBe(0);
  });
});
