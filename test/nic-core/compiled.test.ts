/**
 * The compiled card executor (nic-sim/core/compile.ts) against the interpreter: for
 * every offloadable fixture over the project's captures, the same action, bytes,
 * counters (instructions by class, commands, swaps, branches, firmware calls), maps and
 * timing meter after every packet — and the fixtures do compile.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveProfile } from '../../caps/load-profile.js';
import { Card } from '../../nic-sim/card/card.js';
import { compileProgram } from '../../nic-sim/core/compile.js';
import { StepContext, run, type CoreState, type RunCounters } from '../../nic-sim/core/index.js';
import type { Insn } from '../../nic-sim/isa/instructions.js';
import { cardMeter } from '../../nic-sim/replay/card-engine.js';
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

/** A straight-line program on a state, compiled or on the interpreter. */
function runWith(compiled: boolean, program: readonly Insn[], s: CoreState, counters: RunCounters): void {
  if (compiled) {
    const c = compileProgram(program, { startPc: 0, endPc: program.length, firmware: new Map(), stepLimit: 1000 });
    if (!('run' in c)) throw new Error(c.unsupported);
    c.run(s, counters, null, new StepContext(s));
  } else {
    run(program, s, { startPc: 0, endPc: program.length, counters });
  }
}

function cardOf(name: string, image: ReturnType<typeof jitProgram>['image'], executor: 'compiled' | 'interpreter') {
  let card: Card | undefined;
  const meter = cardMeter(image, profile, () => card!.maps);
  card = new Card(image, profile, { file: name, executor, meter, random: seededRandom(3) });
  return { card, meter };
}

describe('the compiled card executor does what the interpreter does', () => {
  it('the offloadable fixtures compile', () => {
    const compiled = offloadable.filter(({ name, obj, program }) => cardOf(name, jitProgram(obj, program, profile).image, 'compiled').card.isCompiled);
    expect(compiled.length).toBeGreaterThanOrEqual(offloadable.length - 2);
  });

  it.each(offloadable)('$name: action, bytes, counters, maps and meter after every packet', ({ name, obj, program }) => {
    const image = jitProgram(obj, program, profile).image;
    const a = cardOf(name, image, 'compiled');
    const b = cardOf(name, image, 'interpreter');
    packets.forEach((p, k) => {
      a.meter.begin(0);
      b.meter.begin(0);
      const x = a.card.runPacket(p);
      const y = b.card.runPacket(p);
      const where = `${name}, packet ${k}`;
      expect({ action: x.action, error: x.error, bytes: [...x.bytes] }, where).toEqual({ action: y.action, error: y.error, bytes: [...y.bytes] });
      expect(x.counters, where).toEqual(y.counters);
      expect([a.meter.end(0), a.meter.compute, a.meter.sleep, [...a.meter.commands]], where).toEqual([b.meter.end(0), b.meter.compute, b.meter.sleep, [...b.meter.commands]]);
      expect(a.card.maps.emem, where).toEqual(b.card.maps.emem);
    });
    expect([...a.meter.pcCycles]).toEqual([...b.meter.pcCycles]);
  });
});

describe('compiled memory commands, every form the JIT does not emit too (property)', () => {
  it('read32, write32, read8, write8, add32 and add64, either byte order, any length, in and out of range', async () => {
    const fc = (await import('fast-check')).default;
    const { createCounters, createCoreState, CoreError } = await import('../../nic-sim/core/index.js');
    const cmd = fc.record({
      target: fc.constantFrom('ctm' as const, 'emem' as const),
      action: fc.constantFrom('read32' as const, 'write32' as const, 'read8' as const, 'write8' as const, 'add32' as const, 'add64' as const),
      byteSwap: fc.boolean(),
      length: fc.integer({ min: 1, max: 8 }),
      xfer: fc.integer({ min: 0, max: 8 }),
      addr: fc.integer({ min: 0, max: 300 }),
    });
    fc.assert(fc.property(fc.array(cmd, { minLength: 1, maxLength: 6 }), fc.uint8Array({ minLength: 256, maxLength: 256 }), fc.array(fc.nat(), { minLength: 32, maxLength: 32 }), (cmds, mem, xo) => {
      const program = cmds.map((c) => ({
        cls: 'cmd' as const, target: c.target, action: c.action, byteSwap: c.byteSwap, xfer: c.xfer, length: c.length,
        a: { k: 'imm' as const, value: c.addr }, b: { k: 'imm' as const, value: 0 }, ctxSwap: false, defer: 0, sig: 0, mode: 'addr32' as const, indirect: false,
      }));
      const outcome = (compiled: boolean) => {
        const s = createCoreState({ mem: { ctm: mem.slice(), emem: mem.slice(0, 200) } });
        xo.forEach((v, k) => (s.xferOut[k] = v >>> 0));
        const counters = createCounters();
        try {
          runWith(compiled, program, s, counters);
        } catch (e) {
          if (!(e instanceof CoreError)) throw e;
          return { error: e.message, ctm: [...s.mem.ctm], emem: [...s.mem.emem], xi: [...s.xferIn] };
        }
        return { ctm: [...s.mem.ctm], emem: [...s.mem.emem], xi: [...s.xferIn], counters };
      };
      expect(outcome(true)).toEqual(outcome(false));
    }), { numRuns: 300, seed: 5 });
  });
});

describe('compiled ALU, shift, field and immediate instructions (property)', () => {
  it('random straight-line programs leave the state the interpreter leaves', async () => {
    const fc = (await import('fast-check')).default;
    const { createCounters, createCoreState } = await import('../../nic-sim/core/index.js');
    const { ALU_OPS, SHF_OPS } = await import('../../nic-sim/isa/tables.js');
    const gpr = fc.record({ k: fc.constant('gpr' as const), bank: fc.constantFrom('a' as const, 'b' as const), n: fc.integer({ min: 0, max: 7 }) });
    const srcA = fc.oneof(gpr, fc.record({ k: fc.constant('xfer' as const), n: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ k: fc.constant('imm' as const), value: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.nat()) }));
    const dst = fc.oneof(
      fc.record({ k: fc.constant('gpr' as const), bank: fc.constantFrom('a' as const, 'b' as const, 'ab' as const), n: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ k: fc.constant('xfer' as const), n: fc.integer({ min: 0, max: 7 }) }), fc.constant({ k: 'none' as const }));
    const alu = fc.record({ cls: fc.constant('alu' as const), op: fc.constantFrom(...ALU_OPS.names), dst, a: srcA, b: srcA, swap: fc.boolean() });
    const shf = fc.record({
      cls: fc.constant('alu_shf' as const), op: fc.constantFrom(...SHF_OPS.names), dst, a: srcA, b: srcA, swap: fc.boolean(),
      sc: fc.constantFrom('rot' as const, 'shr' as const, 'shl' as const, 'dshr' as const),
      // An indirect amount: the previous ALU's A operand (a double shift's by more than 32 fails, in both).
      shift: fc.oneof(fc.integer({ min: 0, max: 31 }), fc.constant('indirect' as const)),
    });
    const ld = fc.record({
      cls: fc.constant('ld_field' as const), a: gpr, b: srcA, swap: fc.constant(false), wrBoth: fc.boolean(), byteMask: fc.integer({ min: 0, max: 15 }),
      zero: fc.boolean(), sc: fc.constantFrom('rot' as const, 'shr' as const, 'shl' as const), shift: fc.integer({ min: 0, max: 31 }),
    });
    const immed = fc.record({
      cls: fc.constant('immed' as const), dst, value: fc.integer({ min: 0, max: 0xffff }), width: fc.constantFrom('all' as const, 'word' as const, 'byte' as const),
      invert: fc.boolean(), shift: fc.integer({ min: 0, max: 2 }),
    }).map((i) => (i.width === 'byte' ? { ...i, value: i.value & 0xff } : i));
    fc.assert(fc.property(fc.array(fc.oneof(alu, shf, ld, immed), { minLength: 1, maxLength: 12 }), fc.array(fc.nat(), { minLength: 24, maxLength: 24 }), fc.boolean(), (insns, regs, carry) => {
      const program = insns as unknown as readonly Insn[];
      const outcome = (compiled: boolean) => {
        const s = createCoreState();
        regs.forEach((v, k) => ((k < 8 ? s.gprA : k < 16 ? s.gprB : s.xferIn)[k % 8] = v >>> 0));
        s.flags.c = carry;
        s.prevA = regs[3]! % 70;
        s.prevResult = regs[5]! >>> 0;
        const counters = createCounters();
        let error: string | undefined;
        try {
          runWith(compiled, program, s, counters);
        } catch (e) {
          error = (e as Error).message;
        }
        return { error, a: [...s.gprA], b: [...s.gprB], xo: [...s.xferOut], flags: { ...s.flags }, prevA: s.prevA, prevResult: s.prevResult, counters };
      };
      expect(outcome(true)).toEqual(outcome(false));
    }), { numRuns: 500, seed: 9 });
  });
});
