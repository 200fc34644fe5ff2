/**
 * ld-combine (offload/jit/nfp/ld-combine.ts): bytes of the packet loaded one by one and
 * joined with shifts and ORs become one load — and only where that is the same program:
 * every case runs on the card and on the host over packets of every length up to 80
 * bytes with varied contents, and the actions agree.
 */
import { describe, expect, it } from 'vitest';
import { combineLoads } from '../../offload/jit/nfp/ld-combine.js';
import { cardAgreesWithHost } from '../support/card-vs-host.js';

/** Packet bounds (r2 = data_end, r1 = data; `need` bytes, else exit with 1), the body, then pass if r3 = r6 and drop if not. */
function program(need: number, body: readonly string[]): string {
  return [
    'ldxw %r2, [%r1+4]', 'ldxw %r1, [%r1+0]', 'mov %r0, 1', 'mov %r9, %r1', `add %r9, ${need}`, 'jgt %r9, %r2, out',
    ...body, 'mov %r0, 2', 'jeq %r3, %r6, out', 'mov %r0, 1', 'out:', 'exit',
  ].join('\n');
}

const packets = Array.from({ length: 400 }, (_, n) => Uint8Array.from({ length: (n % 80) + 1 }, (_, i) => (i * 29 + n * 7 + (n >> 3)) & 0xff));

/** The combination found, and the card agreeing with the host on every packet. */
function check(name: string, asm: string): { loads: number; away: number } {
  const { records } = cardAgreesWithHost(name, asm.split('\n'), packets);
  const c = combineLoads(records.records);
  return { loads: c.loads.size, away: c.away.size };
}

// r6: the same bytes loaded whole, which the combined value must equal on every packet.
const u16At12 = ['ldxb %r3, [%r1+13]', 'lsh %r3, 8', 'ldxb %r4, [%r1+12]', 'or %r3, %r4'];

describe('ld-combine', () => {
  it('a little-endian u16 from two bytes is one load (h_proto, as clang writes it)', () => {
    expect(check('u16', program(14, [...u16At12, 'ldxh %r6, [%r1+12]']))).toEqual({ loads: 1, away: 3 });
  });

  it('a u32 from two u16 halves, each from two bytes, and a u64 from two u32', () => {
    const u32 = ['ldxb %r3, [%r1+9]', 'lsh %r3, 8', 'ldxb %r4, [%r1+8]', 'or %r3, %r4', 'ldxb %r5, [%r1+11]', 'lsh %r5, 8', 'ldxb %r4, [%r1+10]', 'or %r5, %r4', 'lsh %r5, 16', 'or %r3, %r5'];
    expect(check('u32', program(20, [...u32, 'ldxw %r6, [%r1+8]']))).toEqual({ loads: 1, away: 9 });
    const u64 = ['ldxw %r3, [%r1+4]', 'ldxw %r4, [%r1+0]', 'lsh %r3, 32', 'or %r3, %r4', 'ldxdw %r6, [%r1+0]'];
    expect(check('u64', program(20, u64))).toEqual({ loads: 1, away: 3 });
  });

  it('32-bit shifts and ORs combine too, within 32 bits', () => {
    expect(check('alu32', program(14, ['ldxb %r3, [%r1+13]', 'lsh32 %r3, 8', 'ldxb %r4, [%r1+12]', 'or32 %r3, %r4', 'ldxh %r6, [%r1+12]']))).toEqual({ loads: 1, away: 3 });
  });

  it('is left alone where it would not be the same program', () => {
    // The consumed byte (r4) is read again afterwards.
    expect(check('live', program(14, [...u16At12, 'mov %r6, %r4']))).toEqual({ loads: 0, away: 0 });
    // The first byte is read before it is joined.
    expect(check('read', program(14, ['ldxb %r3, [%r1+13]', 'mov %r6, %r3', 'lsh %r3, 8', 'ldxb %r4, [%r1+12]', 'or %r3, %r4']))).toEqual({ loads: 0, away: 0 });
    // The packet is written between the loads.
    expect(check('store', program(14, ['ldxb %r3, [%r1+13]', 'lsh %r3, 8', 'stb [%r1+12], 7', 'ldxb %r4, [%r1+12]', 'or %r3, %r4', 'mov %r6, 0']))).toEqual({ loads: 0, away: 0 });
    // The base moves between the loads (the second byte is another one).
    expect(check('base', program(15, ['ldxb %r3, [%r1+13]', 'lsh %r3, 8', 'add %r1, 1', 'ldxb %r4, [%r1+12]', 'or %r3, %r4', 'mov %r6, 0']))).toEqual({ loads: 0, away: 0 });
    // Bytes in the wrong places: byte 12 shifted up, byte 13 not (big-endian), and a gap.
    expect(check('order', program(14, ['ldxb %r3, [%r1+12]', 'lsh %r3, 8', 'ldxb %r4, [%r1+13]', 'or %r3, %r4', 'mov %r6, 0']))).toEqual({ loads: 0, away: 0 });
    expect(check('gap', program(15, ['ldxb %r3, [%r1+14]', 'lsh %r3, 8', 'ldxb %r4, [%r1+12]', 'or %r3, %r4', 'mov %r6, 0']))).toEqual({ loads: 0, away: 0 });
    // A jump between the loads.
    expect(check('jump', program(14, ['ldxb %r3, [%r1+13]', 'lsh %r3, 8', 'jeq %r2, 0, skip', 'skip:', 'ldxb %r4, [%r1+12]', 'or %r3, %r4', 'mov %r6, 0']))).toEqual({ loads: 0, away: 0 });
  });
});
