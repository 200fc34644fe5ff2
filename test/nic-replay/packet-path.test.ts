/**
 * The packet path (nic-sim/replay/packet-path.ts, one WebAssembly call a frame) does what
 * the card engine does in JavaScript (`admit` then `run`): two engines on the same image,
 * one through the path and one without, offered the same frames, give the same outcome
 * for every frame — refusal, action, length, bytes, error, trace figures — and the same
 * totals at the end: arrivals, overflows, MTU drops, the engines' and the capacity
 * sample's figures, latency histogram, commands, lock time, hot spots and maps. Over
 * every offloadable fixture and project capture, at an overload, with a small MTU, with
 * a step limit that hands runs to the interpreter, with firmware calls that fail and
 * calls that swap more often than the segment area holds. Its RSS queue equals
 * spread.ts's on random frames.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveProfile } from '../../caps/load-profile.js';
import { HelperId } from '../../xdp/helpers/helper-ids.js';
import { FirmwareError } from '../../nic-sim/firmware/routines.js';
import type { FirmwareRoutine } from '../../nic-sim/core/run.js';
import { CardEngine, type CardEngineOptions } from '../../nic-sim/replay/card-engine.js';
import { PacketPath } from '../../nic-sim/replay/packet-path.js';
import { RssSpreader } from '../../nic-sim/rss/spread.js';
import { RSS_VERIFICATION_KEY } from '../../nic-sim/rss/toeplitz.js';
import { jitProgram } from '../../offload/jit/jit-program.js';
import { openCapture } from '../../xdp/pcap/capture.js';
import type { CaptureRecord } from '../../xdp/pcap/capture-record.js';
import { seededRandom } from '../../xdp/runtime/helpers/helper-env.js';
import { offloadableFixtures } from '../support/offloadable.js';
import { REPO } from '../support/paths.js';

const { profile } = resolveProfile('nfp-4000');
const PCAP_DIR = join(REPO, 'fixtures', 'pcap');
const records: CaptureRecord[] = readdirSync(PCAP_DIR).filter((f) => f.endsWith('.pcap')).sort()
  .flatMap((f) => [...openCapture(join(PCAP_DIR, f))].map((r) => ({ ...r, data: r.data.slice() })));
const offloadable = offloadableFixtures(profile);
const image = (name: string) => {
  const f = offloadable.find((x) => x.name === name)!;
  return jitProgram(f.obj, f.program, profile).image;
};

type Tweak = (e: CardEngine) => void;

/** Every `every`-th call of the routine at the lookup helper's address throws, in both engines alike (HASH lookups made to call it, not run in WebAssembly). */
const failingLookups = (every: number): Tweak => (e) => {
  e.card.maps.hashIndex = () => undefined;
  const address = profile.helpers.find((h) => h.id === HelperId.MAP_LOOKUP_ELEM)!.address!;
  const firmware = (e.card as unknown as { firmware: Map<number, FirmwareRoutine> }).firmware;
  const routine = firmware.get(address)!;
  let calls = 0;
  firmware.set(address, (s) => {
    if (++calls % every === 0) throw new FirmwareError('packet', `lookup ${calls} made to fail`);
    routine(s);
  });
};

/** Every map call priced with `reads` more reads of the map's memory, each a swap (more segments than the WebAssembly area holds). */
const manyReads = (reads: number): Tweak => (e) => {
  const price = e.meter.firmwarePrice.bind(e.meter);
  e.meter.firmwarePrice = (address, table) => {
    const p = price(address, table);
    return p === null ? null : { ...p, reads: p.reads + reads };
  };
};

/** Both engines over the frames: every outcome and the totals equal; how many packets the path handed back is not asked. */
function compare(name: string, opts: Partial<CardEngineOptions>, tweak?: Tweak, frames: readonly CaptureRecord[] = records): { refused: number; failed: number } {
  const img = image(name);
  const make = (packetPath: boolean) => {
    const e = new CardEngine(img, profile, { file: name, random: seededRandom(5), perPacket: true, ...opts, packetPath });
    tweak?.(e);
    return e;
  };
  const a = make(true);
  const b = make(false);
  let refused = 0;
  let failed = 0;
  frames.forEach((rec, k) => {
    const x = a.offer(rec, k);
    const y = b.offer(rec, k);
    const where = `${name}, frame ${k}`;
    if (typeof x === 'string' || typeof y === 'string') {
      expect(x, where).toEqual(y);
      refused++;
      return;
    }
    expect({ action: x.action, length: x.length, error: x.error, bytes: [...x.bytes()] }, where).toEqual({ action: y.action, length: y.length, error: y.error, bytes: [...y.bytes()] });
    if (x.error !== undefined) failed++;
  });
  a.finish();
  b.finish();
  const totals = (e: CardEngine) => ({
    ...e.timing.totals(), offered: e.timing.offered, wireBitsIn: e.timing.wireBitsIn, oversize: e.timing.oversize, beyondSplit: e.timing.beyondSplit,
    lastArrival: e.timing.lastArrival, observed: e.timing.observed, cycles: e.timing.cyclesPerPacket.state(), saturated: e.timing.saturated.busy(0),
    sample: e.timing.sample, pcCycles: [...e.meter.pcCycles], pcSleep: [...e.meter.pcSleep], traces: frames.map((_, k) => e.traceFields(k)),
    emem: [...e.card.maps.emem],
  });
  expect(totals(a), name).toEqual(totals(b));
  return { refused, failed };
}

describe('the packet path gives what admit and run give', () => {
  it('links to cards whose code runs as WebAssembly, and to no other', () => {
    const e = new CardEngine(image(offloadable[0]!.name), profile, { file: 'x' });
    expect(PacketPath.link(e.card.fusion(), e.timing, profile)).toBeDefined();
    const js = new CardEngine(image(offloadable[0]!.name), profile, { file: 'x', executor: 'compiled' });
    expect(js.card.fusion()).toBeUndefined();
  });

  it.each(offloadable)('$name: every frame of every project capture, and the totals', ({ name }) => {
    compare(name, {});
  });

  it('an offered load far above capacity: the same overflows, packet for packet', () => {
    const { refused } = compare('proto_count_array.o:xdp_proto_count', { load: { kind: 'rate', mpps: 5000 } }, undefined, Array.from({ length: 6 }, () => records).flat());
    expect(refused).toBeGreaterThan(300);
  });

  it('a small MTU: the same frames dropped by the MAC', () => {
    const { refused } = compare('firewall_5tuple.o:xdp_firewall', { mtu: 200 });
    expect(refused).toBeGreaterThan(10);
  });

  it('a step limit that ends runs inside blocks: the interpreter goes on, the same failures', () => {
    const { failed } = compare('firewall_5tuple.o:xdp_firewall', { stepLimit: 40 });
    expect(failed).toBeGreaterThan(10);
  });

  it('firmware calls that throw out of the path: the same exception drops and work', () => {
    const { failed } = compare('firewall_5tuple.o:xdp_firewall', {}, failingLookups(3));
    expect(failed).toBeGreaterThan(10);
  });

  it('calls that swap more often than the segment area holds: JavaScript finishes them, the same work', () => {
    compare('firewall_5tuple.o:xdp_firewall', {}, manyReads(150));
  });

  it('frames longer than the packet buffer take the JavaScript way, in order with the rest', () => {
    const big = new Uint8Array(70000);
    big.set(records[0]!.data);
    const frames = records.slice(0, 50).flatMap((r, k) => (k % 10 === 3 ? [r, { ...r, data: big, capLen: big.length, origLen: big.length }] : [r]));
    const { refused } = compare('proto_count_array.o:xdp_proto_count', {}, undefined, frames);
    expect(refused).toBe(5);
  });
});

describe('the packet path spreads frames over queues as spread.ts does', () => {
  const byte = fc.integer({ min: 0, max: 255 });
  /** Ethernet frames with up to three tags, IPv4 (any IHL, fragments), IPv6, other types, cut anywhere. */
  const frameArb = fc.record({
    tags: fc.array(fc.constantFrom(0x8100, 0x88a8, 0x0800), { maxLength: 3 }),
    type: fc.constantFrom(0x0800, 0x86dd, 0x0806, 0x8100),
    version: fc.constantFrom(4, 6, 5),
    ihl: fc.integer({ min: 0, max: 15 }),
    frag: fc.constantFrom(0, 0x2000, 0x0001, 0x4000),
    proto: fc.constantFrom(6, 17, 1, 0),
    body: fc.uint8Array({ minLength: 0, maxLength: 120 }),
    cut: fc.option(fc.integer({ min: 0, max: 200 })),
    macs: fc.array(byte, { minLength: 12, maxLength: 12 }),
  }).map(({ tags, type, version, ihl, frag, proto, body, cut, macs }) => {
    const h: number[] = [...macs];
    for (const t of tags) h.push(t >> 8, t & 0xff, 0, 7);
    h.push(type >> 8, type & 0xff);
    const l3 = h.length;
    const out = new Uint8Array(l3 + 60 + body.length);
    out.set(h);
    out.set(body, l3 + 60);
    for (let k = l3; k < l3 + 60; k++) out[k] = (k * 37 + body.length) & 0xff;
    out[l3] = (version << 4) | ihl;
    out[l3 + 6] = type === 0x86dd ? proto : frag >> 8;
    out[l3 + 7] = frag & 0xff;
    out[l3 + 9] = proto;
    return cut === null ? out : out.subarray(0, Math.min(cut, out.length));
  });

  it.each([60, 7, 1])('%d queues, random frames: the same queue', (queues) => {
    const e = new CardEngine(image('proto_count_array.o:xdp_proto_count'), profile, { file: 'x', engines: queues });
    const path = PacketPath.link(e.card.fusion(), e.timing, profile)!;
    const rss = new RssSpreader(RSS_VERIFICATION_KEY, queues);
    fc.assert(fc.property(frameArb, (f) => {
      expect(path.queueOf(f)).toBe(rss.queueOf(f));
    }), { numRuns: 3000, seed: 21 });
  });

  it('every project frame on the profile\'s engines: the same queue, and the frames spread over many', () => {
    const e = new CardEngine(image('proto_count_array.o:xdp_proto_count'), profile, { file: 'x' });
    const path = PacketPath.link(e.card.fusion(), e.timing, profile)!;
    const rss = new RssSpreader(RSS_VERIFICATION_KEY, profile.timing.cores);
    const spread = new Set<number>();
    for (const r of records.filter((r) => r.data.length <= 65535)) {
      const q = path.queueOf(r.data);
      expect(q).toBe(rss.queueOf(r.data));
      spread.add(q);
    }
    expect(spread.size).toBeGreaterThan(10);
  });
});
