/**
 * Every fixture program `offload check` calls offloadable on nfp-4000 (the real-world
 * patterns' included) is translated (with every optimisation, and with none), loaded as
 * an image and run on the card executor
 * packet by packet over the project's captures; after every packet the action, the
 * packet's bytes and the maps must equal the host interpreter's — and, where the
 * running kernel is usable, the kernel's (BPF_PROG_TEST_RUN; its maps compared at the
 * end, packets under 14 bytes left out as the kernel refuses them). Packets longer than
 * the host's linear frame (XDP_MAX_DATA) are left out: the host splits them into
 * fragments as the kernel's test run does, the card holds them whole.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveProfile } from '../../caps/load-profile.js';
import { Card } from '../../nic-sim/card/card.js';
import { nfpActionName, nfpActionOf } from '../../nic-sim/card/actions.js';
import { decodeImage, encodeImage } from '../../nic-sim/image/index.js';
import { buildImage } from '../../offload/jit/image-writer.js';
import { jitProgram } from '../../offload/jit/jit-program.js';
import { translate } from '../../offload/jit/translate.js';
import { bytesDifference, mapsDifference } from '../../offload/validate/compare.js';
import { openCapture } from '../../xdp/pcap/capture.js';
import { XDP_MAX_DATA } from '../../xdp/runtime/xdp-buff.js';
import { XdpMachine } from '../../xdp/runtime/xdp-machine.js';
import { XDP_TEST_RUN_MIN_BYTES, kernelAvailable, loadObjectIntoKernel } from '../../xdp/kernel/kernel-oracle.js';
import { kernelPacketEngine, mapsFromKernel } from '../../xdp/replay/kernel-engine.js';
import { release as kernelRelease } from 'node:os';
import { REPO } from '../support/paths.js';
import { offloadableFixtures } from '../support/offloadable.js';

const { profile } = resolveProfile('nfp-4000');
const PCAP_DIR = join(REPO, 'fixtures', 'pcap');
const packets: Uint8Array[] = readdirSync(PCAP_DIR).filter((f) => f.endsWith('.pcap')).sort()
  .flatMap((f) => [...openCapture(join(PCAP_DIR, f))].map((r) => r.data.slice()))
  .filter((p) => p.length <= XDP_MAX_DATA);

const offloadable = offloadableFixtures(profile);

describe('offloadable fixtures: the card executor and the host interpreter agree packet by packet', () => {
  it('there are offloadable fixtures and captures to run them on', () => {
    expect(offloadable.length).toBeGreaterThanOrEqual(24);
    expect(packets.length).toBeGreaterThan(500);
  });

  const variants = offloadable.flatMap((f) => [{ ...f, passes: 'all' as const }, { ...f, passes: 'none' as const }]);
  it.each(variants)('$name, passes: $passes', ({ name, obj, program, passes }) => {
    const jit = jitProgram(obj, program, profile);
    const card0 = passes === 'all' ? jit.card : translate(jit.records.records, { passes: new Set(), u32Return: true, adjustHead: profile.adjustHead! });
    const image = buildImage(card0, program, obj.maps, profile);
    // Through the image's bytes, as `offload jit -o` writes and the card loads.
    const card = new Card(decodeImage(encodeImage(image), name), profile, { file: name });
    const host = new XdpMachine(obj, program, { engine: 'interp' });
    packets.forEach((pkt, i) => {
      const h = host.run(pkt, i);
      const c = card.runPacket(pkt);
      const where = `${name}, packet ${i} (${pkt.length} bytes)`;
      expect(c.error, where).toBeUndefined();
      expect(nfpActionName(c.action), where).toBe(nfpActionName(nfpActionOf(h.action)));
      expect(bytesDifference(h.bytes(), c.bytes), where).toBeUndefined();
      expect(mapsDifference(host.maps, card.maps), where).toBeUndefined();
    });
  });
});

const kernel = kernelAvailable();
describe.skipIf(!kernel.ok)(`offloadable fixtures: the card executor and the running kernel agree${kernel.ok ? '' : ` (skipped: ${kernel.reason})`}`, () => {
  it.each(offloadable)('$name', ({ name, obj, program }) => {
    const card = new Card(jitProgram(obj, program, profile).image, profile, { file: name });
    const k = loadObjectIntoKernel(obj, { program: program.name });
    try {
      const engine = kernelPacketEngine(k);
      packets.forEach((pkt, i) => {
        if (pkt.length < XDP_TEST_RUN_MIN_BYTES) return;
        const r = engine.run(pkt, i);
        const c = card.runPacket(pkt);
        const where = `${name}, packet ${i} (${pkt.length} bytes), kernel ${kernelRelease()}`;
        expect(nfpActionName(c.action), where).toBe(nfpActionName(nfpActionOf(r.action)));
        expect(bytesDifference(r.bytes(), c.bytes), where).toBeUndefined();
      });
      // The kernel's perf samples are not read back: perf event arrays are compared with the host only.
      expect(mapsDifference(mapsFromKernel(obj, k), card.maps, { events: false }), `${name}: maps at the end, kernel ${kernelRelease()}`).toBeUndefined();
    } finally {
      k.close();
    }
  });
});
