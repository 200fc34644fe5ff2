/**
 * The block-compiled, timed card executor (nic-sim/core/compile-timed.ts) against the
 * interpreter told of every instruction by the same meter (nic-sim/timing/packet-meter.ts):
 * the same action, bytes and maps, and the same work — segments, compute, sleep,
 * commands per memory, lock cycles — after every packet of every offloadable fixture,
 * the same hot spots at the end; with a step limit that ends runs inside blocks; and on
 * random branching programs whose firmware calls and computed branches land anywhere.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveProfile } from '../../caps/load-profile.js';
import { Card } from '../../nic-sim/card/card.js';
import { compileTimed } from '../../nic-sim/core/compile-timed.js';
import { wasmTimed } from '../../nic-sim/core/wasm-timed.js';
import { CardMemory } from '../../nic-sim/card/card-memory.js';
import { CoreError, StepContext, createCoreState, createCounters, run } from '../../nic-sim/core/index.js';
import type { Insn } from '../../nic-sim/isa/instructions.js';
import { cardMeter } from '../../nic-sim/replay/card-engine.js';
import { cycleTable } from '../../nic-sim/timing/cycle-table.js';
import { PacketMeter } from '../../nic-sim/timing/packet-meter.js';
import { jitProgram } from '../../offload/jit/jit-program.js';
import { openCapture } from '../../xdp/pcap/capture.js';
import { seededRandom } from '../../xdp/runtime/helpers/helper-env.js';
import { offloadableFixtures } from '../support/offloadable.js';
import { REPO } from '../support/paths.js';

const { profile } = resolveProfile('nfp-4000');
const PCAP_DIR = join(REPO, 'fixtures', 'pcap');
const packets = readdirSync(PCAP_DIR).filter((f) => f.endsWith('.pcap')).sort()
  .flatMap((f) => [...openCapture(join(PCAP_DIR, f))].map((r) => r.data.slice()));
const offloadable = offloadableFixtures(profile);

type Executor = 'compiled' | 'wasm' | 'interpreter';

function timedCard(name: string, image: ReturnType<typeof jitProgram>['image'], executor: Executor, stepLimit?: number) {
  let card: Card | undefined;
  const meter = cardMeter(image, profile, () => card!.maps);
  card = new Card(image, profile, { file: name, executor, timed: meter, random: seededRandom(3), ...(stepLimit ? { stepLimit } : {}) });
  return { card, meter };
}

const workOf = (m: PacketMeter) => ({
  segs: m.work.segments(), compute: m.compute, sleep: m.sleep, steps: m.work.steps > 0, commands: [...m.commands], locks: [...m.locks],
});

function compare(name: string, executor: Exclude<Executor, 'interpreter'>, stepLimit?: number): void {
  const f = offloadable.find((x) => x.name === name)!;
  const image = jitProgram(f.obj, f.program, profile).image;
  const a = timedCard(name, image, executor, stepLimit);
  const b = timedCard(name, image, 'interpreter', stepLimit);
  packets.forEach((p, k) => {
    a.meter.begin(7);
    b.meter.begin(7);
    const x = a.card.runTimed(p);
    const y = b.card.runTimed(p);
    const where = `${name}, packet ${k}`;
    expect({ action: x.action, error: x.error, length: x.length, bytes: [...x.bytes()] }, where).toEqual({ action: y.action, error: y.error, length: y.length, bytes: [...y.bytes()] });
    a.meter.end(3);
    b.meter.end(3);
    const { steps: _a, ...wa } = workOf(a.meter);
    const { steps: _b, ...wb } = workOf(b.meter);
    expect(wa, where).toEqual(wb);
    expect(a.card.maps.emem, where).toEqual(b.card.maps.emem);
  });
  a.card.foldHotSpots();
  expect([...a.meter.pcCycles], `${name}: cycles per instruction`).toEqual([...b.meter.pcCycles]);
  expect([...a.meter.pcSleep], `${name}: sleep per instruction`).toEqual([...b.meter.pcSleep]);
}

describe.each(['compiled', 'wasm'] as const)('the timed executor (%s) charges what the meter charges, instruction by instruction', (executor) => {
  it.each(offloadable)('$name: action, bytes, maps and work after every packet; hot spots', ({ name }) => compare(name, executor));

  it.each(offloadable.slice(0, 8))('$name with a step limit of 17: the same failures at the same instruction, the same work', ({ name }) => compare(name, executor, 17));

  it('runs every offloadable fixture in that executor (none falls back)', () => {
    for (const f of offloadable) {
      const { card } = timedCard(f.name, jitProgram(f.obj, f.program, profile).image, executor);
      expect(card.timedExecutor, f.name).toBe(executor);
    }
  });
});

describe('random branching programs (property)', () => {
  const FW = 200;
  const table = cycleTable(profile.timing);
  const meterFor = (length: number) => new PacketMeter(table, profile.timing, length, new Map(), { count: 0, mapOfTable: () => undefined });
  const gpr = (n: number) => ({ k: 'gpr' as const, bank: 'a' as const, n });
  const ab = (n: number) => ({ k: 'gpr' as const, bank: 'ab' as const, n });

  /** Instruction k of a program of n, or a branch/call/command, as the draw says. */
  const insnArb = (n: number): fc.Arbitrary<Insn[]> => fc.oneof(
    fc.record({ op: fc.constantFrom('add' as const, 'sub' as const, 'xor' as const, 'and' as const), d: fc.integer({ min: 1, max: 5 }), x: fc.integer({ min: 1, max: 5 }), v: fc.nat(300) })
      .map(({ op, d, x, v }) => [{ cls: 'alu', op, dst: ab(d), a: gpr(x), b: { k: 'imm', value: v }, swap: false } as Insn]),
    fc.record({ cond: fc.constantFrom('eq' as const, 'ne' as const, 'lo' as const, 'hs' as const, 'always' as const), target: fc.nat(n + 1), defer: fc.nat(2) })
      .map((b) => [{ cls: 'br', ...b } as Insn]),
    fc.record({ ret: fc.nat(n) }).map(({ ret }) => [
      { cls: 'br', cond: 'always', target: FW, defer: 1 } as Insn,
      { cls: 'immed', dst: { k: 'gpr', bank: 'b', n: 0 }, value: ret, width: 'all', invert: false, shift: 0 } as Insn,
    ]),
    fc.record({ x: fc.integer({ min: 1, max: 5 }), defer: fc.nat(1) }).map(({ x, defer }) => [{ cls: 'br_alu', src: gpr(x), defer } as Insn]),
    // Shifts, by a fixed amount or indirectly by the previous ALU's A operand (whose value the block must then keep).
    fc.record({ op: fc.constantFrom('none' as const, 'and' as const, 'or' as const, 'ashr' as const), sc: fc.constantFrom('rot' as const, 'shr' as const, 'shl' as const), d: fc.integer({ min: 1, max: 5 }), x: fc.integer({ min: 1, max: 5 }), shift: fc.oneof(fc.nat(31), fc.constant('indirect' as const)) })
      .map(({ op, sc, d, x, shift }) => [{ cls: 'alu_shf', op, sc, shift, dst: ab(d), a: gpr(x), b: gpr(x), swap: false } as Insn]),
    fc.record({ action: fc.constantFrom('read32' as const, 'write32' as const, 'add32' as const), addr: fc.nat(80), swap: fc.boolean(), defer: fc.nat(2) })
      .map(({ action, addr, swap, defer }) => [{
        cls: 'cmd', target: 'ctm', action, byteSwap: false, xfer: 0, length: 2, a: { k: 'imm', value: addr }, b: { k: 'imm', value: 0 },
        ctxSwap: swap, defer: swap ? defer : 0, sig: swap ? 1 : 0, mode: 'addr32', indirect: false,
      } as Insn]),
  );

  it('the timed run and the metered interpreter agree on the state, the failure and the work', () => {
    fc.assert(fc.property(fc.integer({ min: 4, max: 30 }).chain((n) => fc.tuple(fc.constant(n), fc.array(insnArb(n), { minLength: n, maxLength: n }))), fc.array(fc.nat(60), { minLength: 6, maxLength: 6 }),
      ([, parts], regs) => {
        const program = parts.flat();
        // Defer slots that would hold a branch or a swap, or run off the end, are not programs the executors take.
        const ok = program.every((i, pc) => {
          const d = i.cls === 'br' || i.cls === 'br_alu' ? i.defer : i.cls === 'cmd' && i.ctxSwap ? i.defer : 0;
          for (let k = 1; k <= d; k++) {
            const s = program[pc + k];
            if (s === undefined || s.cls === 'br' || s.cls === 'br_alu' || (s.cls === 'cmd' && s.ctxSwap)) return false;
          }
          return true;
        });
        fc.pre(ok);
        const firmware = new Map([[FW, (s: ReturnType<typeof createCoreState>) => { s.gprA[1] = (s.gprA[1]! + 1) >>> 0; }]]);
        const outcome = (executor: Executor) => {
          const timed = executor !== 'interpreter';
          const cm = new CardMemory(64, 0, program.length);
          const s = executor === 'wasm' ? createCoreState({ registers: cm.registers, mem: { ctm: cm.ctm } }) : createCoreState({ mem: { ctm: new Uint8Array(64) } });
          regs.forEach((v, k) => { s.gprA[k] = v; s.gprB[k] = v; });
          const meter = meterFor(program.length);
          meter.begin(0);
          const o = { startPc: 0, endPc: program.length, firmware, stepLimit: 150 };
          let error: string | undefined;
          const ctx = new StepContext(s);
          const c = executor === 'wasm'
            ? wasmTimed(program, { ...o, prices: meter, layout: cm.execLayout, memory: cm.memory, state: s, context: ctx, memories: meter.work.commands.length })
            : compileTimed(program, { ...o, prices: meter });
          if (!('run' in c)) throw new Error(c.unsupported);
          try {
            if (timed) {
              const resume = c.run(s, meter.work, ctx);
              const counters = createCounters();
              counters.steps = meter.work.steps;
              if (resume >= 0) run(program, s, { ...o, startPc: resume, meter, counters, context: ctx });
            } else {
              run(program, s, { ...o, meter });
            }
          } catch (e) {
            if (!(e instanceof CoreError)) throw e;
            error = e.message;
          }
          if (timed) c.foldHotSpots(meter.work.pcCycles, meter.work.pcSleep);
          meter.end(0);
          return { error, a: [...s.gprA], ctm: [...s.mem.ctm], flags: { ...s.flags }, prevA: s.prevA, prevResult: s.prevResult, segs: meter.work.segments(), compute: meter.compute, sleep: meter.sleep, commands: [...meter.commands], pcCycles: [...meter.pcCycles], pcSleep: [...meter.pcSleep] };
        };
        const reference = outcome('interpreter');
        expect(outcome('compiled')).toEqual(reference);
        expect(outcome('wasm')).toEqual(reference);
      }), { numRuns: 400, seed: 12 });
  });
});
