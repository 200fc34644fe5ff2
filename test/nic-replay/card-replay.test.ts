/**
 * A replay through the simulated card (nic-sim/replay/card-engine.ts) does to every
 * packet what the host engine does: for every fixture program `offload check` calls
 * offloadable on nfp-4000 (the real-world patterns' included) and every project capture,
 * the same action counts, the same per-action captures byte for byte, and the same maps
 * at the end — the card's read back over the control-message mailbox. jumbo.pcap is left
 * out: its frames are longer than the host's linear buffer, so the host splits them into
 * fragments as the kernel does, while the card holds each frame whole.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveProfile } from '../../caps/load-profile.js';
import { CardMapClient } from '../../nic-sim/cmsg/client.js';
import { readCardMaps } from '../../nic-sim/cmsg/host-maps.js';
import { CardMailbox } from '../../nic-sim/cmsg/mailbox.js';
import { CardEngine } from '../../nic-sim/replay/card-engine.js';
import { jitProgram } from '../../offload/jit/jit-program.js';
import { dumpMaps } from '../../xdp/maps/map-json.js';
import { replayCapture } from '../../xdp/replay/replay.js';
import { seededRandom } from '../../xdp/runtime/helpers/helper-env.js';
import { XdpMachine } from '../../xdp/runtime/xdp-machine.js';
import { REPO } from '../support/paths.js';
import { offloadableFixtures } from '../support/offloadable.js';

const { profile } = resolveProfile('nfp-4000');
const PCAP_DIR = join(REPO, 'fixtures', 'pcap');
const captures = readdirSync(PCAP_DIR).filter((f) => f.endsWith('.pcap') && f !== 'jumbo.pcap').sort().map((f) => join(PCAP_DIR, f));
const dir = mkdtempSync(join(tmpdir(), 'card-replay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const offloadable = offloadableFixtures(profile);

describe('a card replay equals the host engine', () => {
  it('there are offloadable fixtures and captures', () => {
    expect(offloadable.length).toBeGreaterThanOrEqual(24);
    expect(captures.length).toBeGreaterThanOrEqual(6);
  });

  it.each(offloadable)('$name: actions, captures and maps over every project capture', ({ name, obj, program }) => {
    const image = jitProgram(obj, program, profile).image;
    // One card and one host machine over all captures, so maps carry from one capture to the next.
    const card = new CardEngine(image, profile, { file: name, random: seededRandom(7), load: { kind: 'rate', mpps: 0.01 } });
    const host = new XdpMachine(obj, program, { engine: 'compiled', seed: 7 });
    captures.forEach((capture, c) => {
      const outCard = join(dir, `${c}-card`);
      const outHost = join(dir, `${c}-host`);
      const a = replayCapture(card, { capture, outDir: outCard });
      const b = replayCapture(host, { capture, outDir: outHost });
      const where = `${name} on ${basename(capture)}`;
      expect(a.dropped, where).toEqual({});
      expect(a.actions, where).toEqual(b.actions);
      expect(a.skippedByReason, where).toEqual(b.skippedByReason);
      for (const f of ['aborted.pcap', 'drop.pcap', 'pass.pcap', 'tx.pcap']) {
        expect(readFileSync(join(outCard, f)).equals(readFileSync(join(outHost, f))), `${where}: ${f}`).toBe(true);
      }
    });
    const client = new CardMapClient(new CardMailbox(card.card.maps, profile.timing.mailboxNs, { multiEntry: true }), true);
    expect(dumpMaps(readCardMaps(client, card.card.maps, obj.maps), obj.btf), name).toEqual(dumpMaps(host.maps, obj.btf));
    expect(card.timing.taken).toBeGreaterThan(0);
    expect(card.timing.latencyNs.count).toBe(card.timing.taken);
  });
});

describe('frames the card cannot take whole', () => {
  it('a frame longer than the card\'s packet buffer is dropped before the program, counted, never a crash', () => {
    const { obj, program, name } = offloadable.find((f) => f.name === 'basic_actions.o:xdp_pass_all')!;
    const card = new CardEngine(jitProgram(obj, program, profile).image, profile, { file: name });
    const data = new Uint8Array(70_000);
    const rec = { index: 0, offset: 0, tsSec: 0, tsNsec: 0, capLen: data.length, origLen: data.length, interfaceId: 0, linkType: 1, data };
    expect(card.admit(rec)).toBe('longer than the card\'s 65535-byte packet buffer');
    expect(card.timing.offered).toBe(1);
    const ok = { ...rec, data: new Uint8Array(300), capLen: 300, origLen: 300 };
    expect(card.admit(ok)).toBeUndefined();
    expect(card.run(ok.data, 1).actionName).toBe('XDP_PASS');
    expect(card.timing.beyondSplit).toBe(1);
  });
});
