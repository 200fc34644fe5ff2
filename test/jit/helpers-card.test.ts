/**
 * The helpers no fixture program offloads, through the JIT and the card's firmware
 * against the host engine packet by packet: map update (BPF_NOEXIST, so both its
 * success and -EEXIST), lookup, an 8-byte add through the value pointer and delete on
 * a HASH keyed by a packet byte; and get_prandom_u32, the card and the host drawing
 * from one seeded sequence.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveProfile } from '../../caps/load-profile.js';
import { Card } from '../../nic-sim/card/card.js';
import { nfpActionName, nfpActionOf } from '../../nic-sim/card/actions.js';
import { jitProgram } from '../../offload/jit/jit-program.js';
import { decideOffload } from '../../offload/rules/decide.js';
import { bytesDifference, mapsDifference } from '../../offload/validate/compare.js';
import { openCapture } from '../../xdp/pcap/capture.js';
import { seededRandom } from '../../xdp/runtime/helpers/helper-env.js';
import { XDP_MAX_DATA } from '../../xdp/runtime/xdp-buff.js';
import { XdpMachine } from '../../xdp/runtime/xdp-machine.js';
import { REPO } from '../support/paths.js';
import { caseObject } from '../verifier/case-loader.js';

const { profile } = resolveProfile('nfp-4000');
const PCAP = join(REPO, 'fixtures', 'pcap');
const packets = readdirSync(PCAP).filter((f) => f.endsWith('.pcap')).sort()
  .flatMap((f) => [...openCapture(join(PCAP, f))].map((r) => r.data.slice())).filter((p) => p.length <= XDP_MAX_DATA);

const COUNTS = { name: 'counts', type: 'HASH', keySize: 4, valueSize: 8, maxEntries: 4 } as const;

/** Count packets per EtherType low byte: insert with NOEXIST, else look up and add; delete a key that reaches 3. */
const HASH_PROGRAM = [
  'ldxw %r2, [%r1+4]', 'ldxw %r1, [%r1+0]', 'mov %r3, %r1', 'add %r3, 14', 'mov %r0, 2', 'jgt %r3, %r2, out',
  'ldxb %r4, [%r1+12]', 'stw [%r10-4], 0', 'stxb [%r10-4], %r4', 'stdw [%r10-16], 1',
  'ld_map %r1, 0', 'mov %r2, %r10', 'add %r2, -4', 'mov %r3, %r10', 'add %r3, -16', 'mov %r4, 1', 'call 2',
  'mov %r6, %r0', 'mov %r0, 3', 'jeq %r6, 0, out',
  'ld_map %r1, 0', 'mov %r2, %r10', 'add %r2, -4', 'call 1', 'mov %r6, %r0', 'mov %r0, 1', 'jeq %r6, 0, out',
  'ldxdw %r7, [%r6+0]', 'add %r7, 1', 'stxdw [%r6+0], %r7', 'mov %r0, 2', 'jne %r7, 3, out',
  'ld_map %r1, 0', 'mov %r2, %r10', 'add %r2, -4', 'call 3', 'mov %r0, 2',
  'out:', 'exit',
];

/** An action drawn at random (get_prandom_u32 & 3). */
const RANDOM_PROGRAM = ['call 7', 'and %r0, 3', 'exit'];

function agree(name: string, asm: readonly string[], maps: readonly (typeof COUNTS)[]): { firmwareCalls: number; actions: Set<string> } {
  const { object, program } = caseObject({ name, asm: asm.join('\n'), maps });
  expect(decideOffload(object, program, profile, { privileged: true }).verdict).toBe('offload');
  const card = new Card(jitProgram(object, program, profile).image, profile, { file: name, random: seededRandom(9) });
  const host = new XdpMachine(object, program, { engine: 'interp', random: seededRandom(9) });
  let firmwareCalls = 0;
  const actions = new Set<string>();
  packets.forEach((pkt, i) => {
    const h = host.run(pkt, i);
    const c = card.runPacket(pkt);
    const where = `${name}, packet ${i}`;
    expect(c.error, where).toBeUndefined();
    expect(nfpActionName(c.action), where).toBe(nfpActionName(nfpActionOf(h.action)));
    expect(bytesDifference(h.bytes(), c.bytes), where).toBeUndefined();
    expect(mapsDifference(host.maps, card.maps), where).toBeUndefined();
    firmwareCalls += c.counters.firmwareCalls;
    actions.add(nfpActionName(c.action));
  });
  return { firmwareCalls, actions };
}

describe('helpers on the card, held to the host engine', () => {
  it('map update (NOEXIST), lookup, an add through the value, delete: same actions and maps after every packet', () => {
    const { firmwareCalls, actions } = agree('hash_counts', HASH_PROGRAM, [COUNTS]);
    // Found and counted (pass), the map full (tx: the lookup misses after -E2BIG): more than one path taken.
    expect(actions.size).toBeGreaterThanOrEqual(2);
    // Every packet of 14 bytes or more calls update, and most of them lookup (and some delete) too.
    expect(firmwareCalls).toBeGreaterThan(packets.length);
  });

  it('get_prandom_u32: the same seeded sequence gives the same actions', () => {
    // All four actions come up: the value is really drawn on both sides.
    expect(agree('prandom', RANDOM_PROGRAM, []).actions.size).toBe(4);
  });
});
