/**
 * A random-program test of the passes that join, move and remove instructions (ld-combine,
 * st-combine, const-src, dead-def, compact): 150 seeded programs of byte and word loads and
 * stores to one packet, shifts by whole bytes, ORs, copies and constant stores — the
 * material those passes work on — each run on the card and the host over 40 packets. The
 * action (from the registers) and every byte of the packet must agree.
 */
import { describe, it } from 'vitest';
import { cardAgreesWithHost } from '../support/card-vs-host.js';

/** xorshift32: the programs are the same on every run. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>>= 0) / 2 ** 32;
  };
}

const REGS = [3, 4, 5, 6, 7];
const SIZES = [['b', 1], ['h', 2], ['w', 4]] as const;

function program(seed: number): string[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const off = (size: number) => Math.floor(r() * (33 - size));
  const out = ['ldxw %r2, [%r1+4]', 'ldxw %r1, [%r1+0]', 'mov %r0, 1', 'mov %r9, %r1', 'add %r9, 32', 'jgt %r9, %r2, out'];
  for (const reg of REGS) out.push(`ldx${pick(SIZES)[0]} %r${reg}, [%r1+${off(4)}]`);
  const n = 8 + Math.floor(r() * 12);
  for (let i = 0; i < n; i++) {
    const a = pick(REGS);
    const b = pick(REGS);
    const [sz, bytes] = pick(SIZES);
    const o = off(4);
    const width = pick([2, 4]);
    switch (pick(['ld', 'st', 'stc', 'rsh', 'lsh', 'or', 'mov', 'movc', 'field-st', 'field-st-copies', 'field-stc', 'field-ld', 'field-ld', 'field-st'] as const)) {
      case 'ld': out.push(`ldx${sz} %r${a}, [%r1+${off(bytes)}]`); break;
      case 'st': out.push(`stx${sz} [%r1+${off(bytes)}], %r${a}`); break;
      case 'stc': out.push(`st${sz} [%r1+${off(bytes)}], ${Math.floor(r() * 512) - 256}`); break;
      case 'rsh': out.push(`rsh %r${a}, ${pick([8, 16, 24])}`); break;
      case 'lsh': out.push(`lsh %r${a}, ${pick([8, 16])}`); break;
      case 'or': out.push(`or %r${a}, %r${b}`); break;
      case 'mov': out.push(`mov %r${a}, %r${b}`); break;
      case 'movc': out.push(`mov %r${a}, ${Math.floor(r() * 300)}`); break;
      // What clang writes for a field it cannot prove aligned: a register's bytes one by one ...
      case 'field-st':
        for (let k = 0; k < width; k++) out.push(`stxb [%r1+${o + k}], %r${a}`, ...(k < width - 1 ? [`rsh %r${a}, 8`] : []));
        break;
      // ... or from shifted copies, in any order ...
      case 'field-st-copies':
        for (const k of [...Array(width).keys()].sort(() => r() - 0.5)) out.push(`mov %r8, %r${a}`, ...(k ? [`rsh %r8, ${8 * k}`] : []), `stxb [%r1+${o + k}], %r8`);
        break;
      // ... constant bytes in a row ...
      case 'field-stc':
        for (let k = 0; k < width; k++) out.push(`stb [%r1+${o + k}], ${Math.floor(r() * 256)}`);
        break;
      // ... and a field read byte by byte, joined with shifts and ORs.
      case 'field-ld': {
        const c = REGS.find((x) => x !== a)!;
        out.push(`ldxb %r${a}, [%r1+${o + 1}]`, `lsh %r${a}, 8`, `ldxb %r8, [%r1+${o}]`, `or %r${a}, %r8`);
        if (width === 4) out.push(`ldxb %r${c}, [%r1+${o + 3}]`, `lsh %r${c}, 8`, `ldxb %r8, [%r1+${o + 2}]`, `or %r${c}, %r8`, `lsh %r${c}, 16`, `or %r${a}, %r${c}`);
        break;
      }
    }
  }
  out.push('mov %r0, %r3', 'xor %r0, %r5', 'xor %r0, %r7', 'and %r0, 1', 'add %r0, 1', 'out:', 'exit');
  return out;
}

describe('joined and removed instructions: random programs, card against host', () => {
  it('150 programs × 40 packets: the same action and the same bytes', () => {
    const packets = Array.from({ length: 40 }, (_, n) => Uint8Array.from({ length: 20 + n }, (_, i) => (i * 53 + n * 17 + 11) & 0xff));
    for (let seed = 1; seed <= 150; seed++) cardAgreesWithHost(`fuzz${seed}`, program(seed), packets);
  });
});
