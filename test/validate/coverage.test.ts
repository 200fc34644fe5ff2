/**
 * validate's branch coverage, read from the card's path through the image, against the
 * path the host interpreter takes through the eBPF program on the same packets: a correct
 * translation takes the same branches, so the outcomes covered must be the same — with
 * every pass on, where the JIT leaves many instructions without code of their own (joined,
 * dead, fused, an exit falling into the outro).
 */
import { join } from 'node:path';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { resolveProfile } from '../../caps/load-profile.js';
import { jitProgram } from '../../offload/jit/jit-program.js';
import { createPacketGenerator } from '../../offload/validate/packet-gen.js';
import { hintsFromInsns } from '../../offload/validate/branch-hints.js';
import { validate, type ValidatePacket } from '../../offload/validate/validate.js';
import { findPrograms, loadObjectFile } from '../../xdp/object/load-object.js';
import { openCapture } from '../../xdp/pcap/capture.js';
import { XdpMachine } from '../../xdp/runtime/xdp-machine.js';
import { REPO } from '../support/paths.js';

const { profile } = resolveProfile('nfp-4000');
const PCAPS = join(REPO, 'fixtures', 'pcap');
const capture = readdirSync(PCAPS).filter((f) => f.endsWith('.pcap')).sort()
  .flatMap((f) => [...openCapture(join(PCAPS, f))].map((r) => r.data.slice())).filter((p) => p.length >= 14 && p.length <= 3520);

describe('branch coverage: the card path against the host path', () => {
  it.each(['parse_l3.o', 'ipip_encap.o', 'rodata_config.o', 'firewall_5tuple.o', 'truncate_tail.o', 'subprog_call.o'])('%s', (fixture) => {
    const obj = loadObjectFile(join(REPO, 'fixtures', 'obj', fixture));
    const program = findPrograms(obj)[0]!;
    const jit = jitProgram(obj, program, profile);
    const gen = createPacketGenerator({ seed: 3, hints: hintsFromInsns(program.insns) });
    const packets: ValidatePacket[] = [
      ...capture.map((data, n): ValidatePacket => ({ data, source: 'pcap', n })),
      ...Array.from({ length: 300 }, (_, n): ValidatePacket => ({ data: gen.next(), source: 'random', n })),
    ];
    const report = validate({ obj, program, profile, image: jit.image, records: jit.records, file: fixture, seed: 3 }, packets);
    expect(report.mismatches).toBe(0);

    // The host's outcomes: after a conditional jump at j, the next instruction run is j + 1 or its target.
    const jumps = jit.records.records.filter((r) => r.kind.k === 'jcond' && r.visits > 0).map((r) => r.index);
    const seen = new Set<string>();
    let prev: number | undefined;
    const host = new XdpMachine(obj, program, { engine: 'interp', onInsn: (slot) => {
      if (prev !== undefined && jumps.includes(prev)) seen.add(`${prev} ${slot === prev + 1 ? 'not taken' : 'taken'}`);
      prev = slot;
    } });
    packets.forEach((p, n) => {
      prev = undefined;
      host.run(p.data, n);
    });
    const missed = jumps.flatMap((j) => [`${j} taken`, `${j} not taken`]).filter((o) => !seen.has(o));
    expect([...report.coverage.missed].sort()).toEqual(missed.sort());
    expect(report.coverage.covered).toBe(seen.size);
  });
});
