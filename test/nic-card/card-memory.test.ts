/**
 * The card's memories in one WebAssembly memory (nic-sim/card/card-memory.ts): regions
 * apart and aligned, and a card's registers, local memory, CTM and maps' EMEM all views of
 * that one memory at the layout's offsets — what code compiled to WebAssembly will rely on.
 */
import { describe, expect, it } from 'vitest';
import { resolveProfile } from '../../caps/load-profile.js';
import { Card } from '../../nic-sim/card/card.js';
import { CardMemory, cardMemoryLayout } from '../../nic-sim/card/card-memory.js';
import { jitProgram } from '../../offload/jit/jit-program.js';
import { join } from 'node:path';
import { findPrograms, loadObjectFile } from '../../xdp/object/load-object.js';
import { REPO } from '../support/paths.js';

const { profile } = resolveProfile('nfp-4000');

describe('the card memory', () => {
  it('lays its regions out apart, each on an 8-byte boundary, EMEM last', () => {
    for (const emem of [0, 8, 4160, 1 << 20]) {
      const l = cardMemoryLayout(128 + 65535, emem);
      const regions = [l.gprs, l.xferIn, l.xferOut, l.lmAddr, l.lmDelay, l.lm, l.ctm, l.emem];
      regions.forEach((at) => expect(at % 8).toBe(0));
      expect([...regions].sort((a, b) => a - b)).toEqual(regions);
      expect(new Set(regions).size).toBe(regions.length);
      expect(l.bytes).toBeGreaterThanOrEqual(l.emem + emem);
      const m = new CardMemory(128 + 65535, emem);
      expect(m.memory.buffer.byteLength).toBeGreaterThanOrEqual(l.bytes);
      expect(m.emem.byteOffset).toBe(l.emem);
      expect(m.emem.length).toBe(emem);
    }
  });

  it('holds a card\'s registers, local memory, packet and maps: what the executor writes is at the layout\'s offsets', () => {
    const obj = loadObjectFile(join(REPO, 'fixtures', 'obj', 'proto_count_array.o'));
    const program = findPrograms(obj).find((p) => p.name === 'xdp_proto_count')!;
    const card = new Card(jitProgram(obj, program, profile).image, profile, { file: 'proto_count_array.o' });
    const m = card.memory;
    const bytes = new Uint8Array(m.memory.buffer);
    const words = new DataView(m.memory.buffer);
    // An IPv4 UDP frame: the counter adds one to protocol 17's entry.
    const frame = new Uint8Array(64);
    frame[12] = 0x08;
    frame[14] = 0x45;
    frame[23] = 17;
    const r = card.runPacket(frame);
    expect(r.error).toBeUndefined();
    // The entry state: the packet's CTM address and length in GPR 22 and 23 of bank A (little-endian words).
    expect(words.getUint32(m.layout.gprs + 4 * 22, true)).toBe(128);
    expect(words.getUint32(m.layout.gprs + 4 * 23, true)).toBe(64);
    // The packet in CTM after the headroom.
    expect([...bytes.subarray(m.layout.ctm + 128, m.layout.ctm + 128 + 64)]).toEqual([...frame]);
    // The map's value for key 17, in EMEM: its count 1 at the start of the value.
    const value = card.maps.lookup(0, Uint8Array.of(17, 0, 0, 0));
    expect(value).toBeGreaterThan(0);
    expect(words.getUint32(m.layout.emem + value, true)).toBe(1);
    expect(card.maps.emem.buffer).toBe(m.memory.buffer);
  });
});
