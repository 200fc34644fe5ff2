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

function cardOf(name: string, image: Parameters<typeof jitProgram>[0] extends never ? never : ReturnType<typeof jitProgram>['image'], executor: 'compiled' | 'interpreter') {
  let card: Card | undefined;
  const helperAt = new Map(profile.helpers.filter((h) => h.address !== undefined).map((h) => [h.address!, h.id]));
  const meter = new PacketMeter(cycleTable(profile.timing), profile.timing, image.code.length, helperAt, {
    count: image.maps.length,
    mapOfTable: (id) => {
      const i = card!.maps.mapIndexOfTable(id);
      return i === undefined ? undefined : { index: i, type: card!.maps.defs[i]!.type };
    },
  });
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
