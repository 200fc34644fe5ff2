/**
 * An assembled XDP program translated with every pass for nfp-4000, then run on the card
 * and on the host interpreter packet by packet: the actions — and the packets' bytes —
 * must agree. What the JIT's pass tests build their cases on.
 */
import { expect } from 'vitest';
import { resolveProfile } from '../../caps/load-profile.js';
import { Card } from '../../nic-sim/card/card.js';
import { nfpActionName, nfpActionOf } from '../../nic-sim/card/actions.js';
import { buildImage } from '../../offload/jit/image-writer.js';
import { translateProgram, type Translated } from '../../offload/jit/jit-program.js';
import { XdpMachine } from '../../xdp/runtime/xdp-machine.js';
import { caseObject } from '../verifier/case-loader.js';

const { profile } = resolveProfile('nfp-4000');

/** Translate `asm` (lines), run `packets` on both sides, expect the same action and bytes for each; the translation. */
export function cardAgreesWithHost(name: string, asm: readonly string[], packets: readonly Uint8Array[]): Translated {
  const { object, program } = caseObject({ name, section: 'xdp', maps: [], asm: asm.join('\n') });
  const translated = translateProgram(object, program, profile);
  const onCard = new Card(buildImage(translated.card, program, object.maps, profile), profile, { file: name });
  const host = new XdpMachine(object, program, { engine: 'interp' });
  packets.forEach((pkt, n) => {
    const h = host.run(pkt, n);
    const c = onCard.runPacket(pkt);
    const where = `${name}: packet ${n} of ${pkt.length} bytes (first byte ${pkt[0]})`;
    expect(nfpActionName(c.action), where).toBe(nfpActionName(nfpActionOf(h.action)));
    expect(Buffer.from(c.bytes).toString('hex'), where).toBe(Buffer.from(h.bytes()).toString('hex'));
  });
  return translated;
}
