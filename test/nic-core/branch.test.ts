/** Branches: every condition taken and not taken after a compare, defer slots, br=byte, br_bset, rtn, firmware routines. */
import { describe, expect, it } from 'vitest';
import { expectError, runAsm, runError } from './run-asm.js';

const CONDS = ['beq', 'bne', 'bmi', 'bpl', 'bhs', 'blo', 'bvs', 'bvc', 'bge', 'blt'] as const;

/** Compare l − r, then branch: gprA_9 = 2 when taken, 1 when not. */
function taken(cond: string, l: number, r: number): boolean {
  const { s } = runAsm(`alu[--, gprA_1, -, gprB_1]
                        ${cond}[yes]
                        immed[gprA_9, 1]
                        br[end]
                  yes:  immed[gprA_9, 2]
                  end:`, (s) => { s.gprA[1] = l; s.gprB[1] = r; });
  return s.gprA[9] === 2;
}

describe('conditional branches after a compare', () => {
  // Hand-worked codes of l − r and the conditions that hold.
  const cases: [number, number, string, readonly string[]][] = [
    [5, 5, 'Z C', ['beq', 'bpl', 'bhs', 'bvc', 'bge']],
    [3, 5, 'N', ['bne', 'bmi', 'blo', 'bvc', 'blt']],
    [7, 5, 'C', ['bne', 'bpl', 'bhs', 'bvc', 'bge']],
    [0x80000000, 1, 'C V', ['bne', 'bpl', 'bhs', 'bvs', 'blt']],
    [1, 0x80000000, 'N V', ['bne', 'bmi', 'blo', 'bvs', 'bge']],
    [0xffffffff, 1, 'N C', ['bne', 'bmi', 'bhs', 'bvc', 'blt']],
  ];
  for (const [l, r, codes, yes] of cases) {
    for (const cond of CONDS) {
      const want = yes.includes(cond);
      it(`${l.toString(16)} − ${r.toString(16)} (${codes}): ${cond} ${want ? 'taken' : 'not taken'}`, () => {
        expect(taken(cond, l, r)).toBe(want);
      });
    }
  }

  it('br is always taken and counted', () => {
    const r = runAsm('br[.2]\nimmed[gprA_1, 1]\nimmed[gprA_2, 2]');
    expect([r.s.gprA[1], r.s.gprA[2]]).toEqual([0, 2]);
    expect(r.counters.branchesTaken).toBe(1);
    expect(r.counters.steps).toBe(2);
    expect(r.counters.byClass.br).toBe(1);
  });
});

describe('defer slots', () => {
  it('the next n instructions run before the branch takes effect', () => {
    const { s, counters } = runAsm(`br[t], defer[2]
                                    immed[gprA_1, 1]
                                    immed[gprA_2, 2]
                                    immed[gprA_3, 3]
                                 t: immed[gprA_4, 4]`);
    expect([s.gprA[1], s.gprA[2], s.gprA[3], s.gprA[4]]).toEqual([1, 2, 0, 4]);
    expect(counters.steps).toBe(4);
  });

  it('a not-taken branch runs its slots and falls through', () => {
    const { s } = runAsm(`alu[--, gprA_1, -, 1]
                          beq[t], defer[1]
                          immed[gprA_2, 2]
                          immed[gprA_3, 3]
                       t: immed[gprA_4, 4]`, (s) => { s.gprA[1] = 5; });
    expect([s.gprA[2], s.gprA[3], s.gprA[4]]).toEqual([2, 3, 4]);
  });

  it('the condition is read at the branch, before the slots change the codes', () => {
    const { s } = runAsm(`alu[--, gprA_1, -, 5]
                          beq[t], defer[1]
                          alu[--, gprA_1, -, 1]
                          immed[gprA_3, 3]
                       t: immed[gprA_4, 4]`, (s) => { s.gprA[1] = 5; });
    expect([s.gprA[3], s.gprA[4]]).toEqual([0, 4]);
    expect(s.flags.z).toBe(false);
  });

  it('a branch in a defer slot is an error', () => {
    expectError(runError('br[.3], defer[1]\nbr[.3]\nnop\nnop'), 'hazard', 'pc 1 `br[.3]`: a branch in a defer slot of pc 0');
  });
});

describe('br=byte, br!=byte, br_bset, br_bclr', () => {
  const branch = (text: string, v: number, bank: 'a' | 'b' = 'a'): boolean =>
    runAsm(`${text}
            immed[gprA_9, 1]
            br[end]
      yes:  immed[gprA_9, 2]
      end:`, (s) => { (bank === 'a' ? s.gprA : s.gprB)[1] = v; }).s.gprA[9] === 2;

  it('compares one byte of the register', () => {
    expect(branch('br=byte[gprA_1, 1, 0xaa, yes]', 0x0000aa00)).toBe(true);
    expect(branch('br=byte[gprA_1, 1, 0xaa, yes]', 0x00aa0000)).toBe(false);
    expect(branch('br!=byte[gprA_1, 1, 0xaa, yes]', 0x0000aa00)).toBe(false);
    expect(branch('br!=byte[gprA_1, 1, 0xaa, yes]', 0x00aa0000)).toBe(true);
    expect(branch('br=byte[gprA_1, 3, 0xff, yes]', 0xff000000)).toBe(true);
    expect(branch('br=byte[gprB_1, 0, 0x44, yes]', 0x11223344, 'b')).toBe(true);
  });

  it('tests one bit of the register', () => {
    expect(branch('br_bset[gprA_1, 5, yes]', 0x20)).toBe(true);
    expect(branch('br_bset[gprA_1, 5, yes]', ~0x20 >>> 0)).toBe(false);
    expect(branch('br_bclr[gprA_1, 5, yes]', 0x20)).toBe(false);
    expect(branch('br_bclr[gprA_1, 5, yes]', 0)).toBe(true);
    expect(branch('br_bset[gprA_1, 31, yes]', 0x80000000)).toBe(true);
    expect(branch('br_bset[gprA_1, 0, yes]', 1)).toBe(true);
    expect(branch('br_bclr[gprB_1, 0, yes]', 2, 'b')).toBe(true);
  });
});

describe('rtn and firmware routines', () => {
  it('rtn branches to the address in a register, after its defer slots', () => {
    const { s } = runAsm(`immed[gprB_0, 4]
                          rtn[gprB_0], defer[1]
                          immed[gprA_1, 1]
                          immed[gprA_2, 2]
                          immed[gprA_3, 3]`);
    expect([s.gprA[1], s.gprA[2], s.gprA[3]]).toEqual([1, 0, 3]);
  });

  it('a return address above 0x3fff is an error', () => {
    expectError(runError('rtn[gprB_0]', (s) => { s.gprB[0] = 0x4000; }), 'bad-pc', 'pc 0 `rtn[gprB_0]`: return address 0x4000 is above 0x3fff');
  });

  it('a branch to a firmware address runs the routine and continues at gprB_0', () => {
    const seen: number[] = [];
    const firmware = new Map([[100, (s: { gprA: Uint32Array }) => {
      seen.push(s.gprA[0] as number);
      s.gprA[3] = (s.gprA[0] as number) * 2;
    }]]);
    const r = runAsm(`immed[gprA_2, 7]
                      br[.100], defer[2]
                      alu[gprA_0, --, B, gprA_2]
                      immed[gprB_0, 5]
                      immed[gprA_9, 9]
                 ret: alu[gprA_5, gprA_3, +, 1]`, () => {}, { firmware });
    expect(seen).toEqual([7]);
    expect(r.s.gprA[5]).toBe(15);
    expect(r.s.gprA[9]).toBe(0);
    expect(r.counters.firmwareCalls).toBe(1);
    expect(r.counters.steps).toBe(5);
  });

  it('the run ends at endPc, outside defer slots', () => {
    const r = runAsm('immed[gprA_1, 1]\nbr[.3]\nimmed[gprA_2, 2]\nimmed[gprA_3, 3]', () => {}, { endPc: 3 });
    expect(r.pc).toBe(3);
    expect(r.s.gprA[3]).toBe(0);
    expectError(runError('br[.4], defer[1]\nnop\nnop', () => {}, { endPc: 1 }), 'hazard', 'pc 1: defer slot of pc 0 reaches the end address');
  });
});
