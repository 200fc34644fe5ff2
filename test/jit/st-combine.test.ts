/**
 * st-combine (offload/jit/nfp/st-combine.ts): packet stores of bytes that together write
 * one field become one store — and only where that is the same program: every case runs on
 * the card and on the host over packets of every length up to 80 bytes, and the actions and
 * the packets' bytes agree.
 */
import { describe, expect, it } from 'vitest';
import { combineStores } from '../../offload/jit/nfp/st-combine.js';
import { cardAgreesWithHost } from '../support/card-vs-host.js';

/** Packet bounds (r2 = data_end, r1 = data; 24 bytes, else exit with 1); r6 = a value from the packet; the body; pass. */
function program(body: readonly string[]): string {
  return [
    'ldxw %r2, [%r1+4]', 'ldxw %r1, [%r1+0]', 'mov %r0, 1', 'mov %r9, %r1', 'add %r9, 24', 'jgt %r9, %r2, out',
    'ldxw %r6, [%r1+16]', ...body, 'mov %r0, 2', 'out:', 'exit',
  ].join('\n');
}

const packets = Array.from({ length: 300 }, (_, n) => Uint8Array.from({ length: (n % 80) + 1 }, (_, i) => (i * 31 + n * 5 + (n >> 2)) & 0xff));

/** The chunks found, and card and host agreeing on the action and the bytes of every packet. */
function check(name: string, asm: string): { stores: number; away: number } {
  const { records } = cardAgreesWithHost(name, asm.split('\n'), packets);
  const s = combineStores(records.records);
  return { stores: s.stores.size, away: s.away.size };
}

describe('st-combine', () => {
  it("a register's bytes stored one by one with shifts between are one store (clang's unaligned field)", () => {
    expect(check('u16', program(['stxb [%r1+4], %r6', 'rsh %r6, 8', 'stxb [%r1+5], %r6']))).toEqual({ stores: 1, away: 1 });
    // Out of order, through copies: bytes 2 and 3 first, then 0 and 1.
    const u32 = ['mov %r4, %r6', 'rsh %r4, 16', 'stxb [%r1+8], %r4', 'mov %r4, %r6', 'rsh %r4, 24', 'stxb [%r1+9], %r4', 'stxb [%r1+6], %r6', 'rsh %r6, 8', 'stxb [%r1+7], %r6'];
    expect(check('u32', program(u32))).toEqual({ stores: 1, away: 3 });
  });

  it('constant bytes in a row are one store: 6 bytes are 4 and 2, a later store of one of them stays after', () => {
    const consts = ['stb [%r1+14], 0x45', 'stb [%r1+15], 0', 'stb [%r1+16], 0x12', 'stb [%r1+17], 0x34', 'stb [%r1+18], 7', 'stb [%r1+19], -3', 'sth [%r1+21], 0x102', 'stb [%r1+15], 9'];
    expect(check('consts', program(consts))).toEqual({ stores: 2, away: 4 });
  });

  it('is left alone where it would not be the same program', () => {
    // A packet load between the stores (it reads what the first wrote).
    expect(check('load', program(['stxb [%r1+4], %r6', 'ldxb %r3, [%r1+4]', 'rsh %r6, 8', 'stxb [%r1+5], %r6', 'stxb [%r1+6], %r3']))).toEqual({ stores: 0, away: 0 });
    // Another store to one of the bytes between them.
    expect(check('overlap', program(['stxb [%r1+4], %r6', 'stb [%r1+5], 7', 'rsh %r6, 8', 'stxb [%r1+5], %r6']))).toEqual({ stores: 0, away: 0 });
    // A jump between them.
    expect(check('jump', program(['stxb [%r1+4], %r6', 'rsh %r6, 8', 'jeq %r6, 0, skip', 'stxb [%r1+5], %r6', 'skip:', 'stxb [%r1+6], %r6']))).toEqual({ stores: 0, away: 0 });
    // The base moves between them.
    expect(check('base', program(['stb [%r1+4], 1', 'add %r1, 1', 'stb [%r1+4], 2']))).toEqual({ stores: 0, away: 0 });
    // Bytes of two different values, and a value's bytes out of place (byte 1 at the lower address).
    expect(check('values', program(['mov %r7, %r6', 'add %r7, 1', 'stxb [%r1+4], %r6', 'rsh %r7, 8', 'stxb [%r1+5], %r7']))).toEqual({ stores: 0, away: 0 });
    expect(check('order', program(['stxb [%r1+5], %r6', 'rsh %r6, 8', 'stxb [%r1+4], %r6']))).toEqual({ stores: 0, away: 0 });
  });
});
