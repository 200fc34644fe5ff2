/**
 * Hand-made captures, good and bad, one defect each: what the readers yield,
 * what they skip (and why), and where they stop with a CaptureError naming the
 * file and the byte offset. Classic pcap files are also read by the pcap-parser
 * oracle, which must agree.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { openCapture } from '../../xdp/pcap/capture.js';
import { CaptureError, describeCut } from '../../xdp/pcap/capture-record.js';
import { openPcap } from '../../xdp/pcap/pcap-reader.js';
import { openPcapng } from '../../xdp/pcap/pcapng-reader.js';
import {
  Bytes,
  buildPcap,
  concatBytes,
  epb,
  idb,
  ngBlock,
  payload,
  pb,
  shb,
  spb,
  tempDir,
  type PcapRecordSpec,
} from './builders.js';
import { firstDifference, readFast, readOracle, type ReadResult } from './read-all.js';

const tmp = tempDir('pcap-bad-');
afterAll(() => tmp.cleanup());
let seq = 0;
const file = (bytes: Uint8Array, ext = 'pcap'): string => tmp.write(`f${seq++}.${ext}`, bytes);

/** Reads with the fast reader (sync and async) and, for classic pcap, the oracle; all must agree. */
async function readBoth(path: string, oracle = true): Promise<ReadResult> {
  const fast = await readFast(path, 'async');
  const sync = await readFast(path, 'sync');
  expect(firstDifference(sync.records, fast.records)).toBeUndefined();
  expect(sync.skipped).toEqual(fast.skipped);
  expect(sync.error?.message).toBe(fast.error?.message);
  if (oracle) {
    const o = await readOracle(path);
    expect(firstDifference(fast.records, o.records)).toBeUndefined();
    expect(fast.skipped).toEqual(o.skipped);
    expect(o.error?.message).toBe(fast.error?.message);
    expect(o.error?.location).toEqual(fast.error?.location);
  }
  return fast;
}

function expectError(r: ReadResult, path: string, offset: number, text: RegExp): void {
  expect(r.error).toBeInstanceOf(CaptureError);
  expect(r.error?.location.file).toBe(path);
  expect(r.error?.location.offset).toBe(offset);
  expect(r.error?.message).toContain(path);
  expect(r.error?.message).toContain(`offset 0x${offset.toString(16)}`);
  expect(r.error?.message).toMatch(text);
}

const rec = (n: number, len = 60): PcapRecordSpec => ({ data: payload(len, n), tsSec: 1_700_000_000 + n, tsFrac: n * 1000 + 7 });

describe('classic pcap: good files', () => {
  it.each([
    ['little-endian µs', true, false],
    ['big-endian µs', false, false],
    ['little-endian ns', true, true],
    ['big-endian ns', false, true],
  ])('%s: header and records', async (_label, le, nanosecond) => {
    const path = file(buildPcap({ le, nanosecond, snapLen: 1500, linkType: 113, records: [rec(0), rec(1, 1500), rec(2, 0)] }));
    const r = await readBoth(path);
    expect(r.error).toBeUndefined();
    expect(r.records.map((x) => x.capLen)).toEqual([60, 1500, 0]);
    expect(r.records[1]!.tsSec).toBe(1_700_000_001);
    expect(r.records[1]!.tsNsec).toBe(nanosecond ? 1007 : 1_007_000);
    expect(r.records.every((x) => x.linkType === 113)).toBe(true);
    expect(Array.from(r.records[1]!.data)).toEqual(Array.from(payload(1500, 1)));
    expect(r.records.map((x) => x.offset)).toEqual([24, 24 + 76, 24 + 76 + 1516]);
    const c = openPcap(path);
    expect(c.header).toMatchObject({ littleEndian: le, nanosecond, snapLen: 1500, linkType: 113, versionMajor: 2, versionMinor: 4 });
    c.close();
  });

  it('zero-length records are records: yielded with empty data', async () => {
    const r = await readBoth(file(buildPcap({ records: [rec(0, 0), rec(1, 0), rec(2)] })));
    expect(r.records.map((x) => x.data.length)).toEqual([0, 0, 60]);
    expect(r.skippedTotal).toBe(0);
  });

  it('an empty capture (header only) has no records', async () => {
    const r = await readBoth(file(buildPcap({ records: [] })));
    expect(r.records).toEqual([]);
    expect(r.error).toBeUndefined();
  });

  it('snaplen 0 means the 262144-byte limit; the FCS bits of the link-type field are not the link type', async () => {
    const path = file(buildPcap({ snapLen: 0, linkType: 0x14000001, records: [rec(0, 9000)] }));
    const r = await readBoth(path);
    expect(r.records.map((x) => [x.capLen, x.linkType])).toEqual([[9000, 1]]);
    const c = openPcap(path);
    expect(c.snapLen).toBe(262144);
    expect(c.header.linkTypeField).toBe(0x14000001);
    c.close();
  });

  it('records straddling chunk boundaries are read whole, by every way of reading', async () => {
    const records = Array.from({ length: 700 }, (_, i) => rec(i, 60 + ((i * 977) % 1455)));
    const path = file(buildPcap({ records }));
    const small = { chunkBytes: 1 }; // raised to the minimum: the longest record plus its header
    const oracle = await readOracle(path);
    for (const mode of ['sync', 'async', 'batches'] as const) {
      const r = await readFast(path, mode, small);
      expect(firstDifference(r.records, oracle.records), mode).toBeUndefined();
    }
    expect(oracle.records.length).toBe(700);
  });

  it('data is a view into the reused buffer unless copy is asked for', () => {
    const records = Array.from({ length: 400 }, (_, i) => rec(i, 1400));
    const path = file(buildPcap({ records }));
    const views: Uint8Array[] = [];
    // The smallest buffer (the longest record plus its header, 262160 bytes) for this 566 KB file.
    for (const r of openPcap(path, { chunkBytes: 1 })) views.push(r.data);
    expect(views.every((v) => v.buffer === views[0]!.buffer)).toBe(true);
    // Past the first refill the early views show later bytes: they were only valid until the next record.
    expect(views.some((v, i) => v[0] !== payload(1400, i)[0])).toBe(true);
    const copies: Uint8Array[] = [];
    for (const r of openPcap(path, { copy: true })) copies.push(r.data);
    expect(copies.filter((c, i) => Buffer.compare(c, payload(1400, i)) !== 0)).toEqual([]);
  });

  it('leaving a loop early closes the file; close() is idempotent', async () => {
    const path = file(buildPcap({ records: [rec(0), rec(1), rec(2)] }));
    const c = openCapture(path);
    for (const r of c) {
      expect(r.index).toBe(0);
      break;
    }
    expect(c.closed).toBe(true);
    expect([...c]).toEqual([]);
    c.close();
    const d = openCapture(path);
    for await (const r of d) {
      expect(r.index).toBe(0);
      break;
    }
    expect(d.closed).toBe(true);
    const e = openCapture(path);
    expect(e.forEach(() => undefined).read).toBe(3);
  });
});

describe('classic pcap: bad files', () => {
  it('an empty file is not a capture', () => {
    const path = file(new Uint8Array(0));
    expect(() => openCapture(path)).toThrow(CaptureError);
    expect(() => openCapture(path)).toThrow(/not a capture file: 0 bytes long/);
  });

  it('a file that does not exist is a CaptureError naming it', () => {
    expect(() => openCapture(`${tmp.dir}/missing.pcap`)).toThrow(/missing\.pcap: cannot open: ENOENT/);
  });

  it('truncated file header: error at offset 0 (both readers)', async () => {
    const path = file(buildPcap({ records: [] }).subarray(0, 10));
    const r = await readBoth(path, false);
    expectError(r, path, 0, /truncated pcap file header: 10 of 24 bytes/);
    const o = await readOracle(path);
    expect(o.error?.message).toMatch(/truncated pcap file header/);
  });

  it('bad magic: the error names the file and the magic found', async () => {
    const path = file(concatBytes(Uint8Array.of(0xde, 0xad, 0xbe, 0xef), buildPcap({ records: [rec(0)] }).subarray(4)));
    const r = await readFast(path);
    expectError(r, path, 0, /not a pcap or pcapng file: magic 0xdeadbeef/);
    const o = await readOracle(path);
    expect(o.error?.message).toMatch(/unknown magic number: deadbeef/);
  });

  it('an unsupported major version stops at offset 4', async () => {
    const path = file(buildPcap({ versionMajor: 1, versionMinor: 0, records: [rec(0)] }));
    expectError(await readFast(path), path, 4, /unsupported pcap version 1\.0/);
  });

  it('incl_len > snaplen: counted skip over-snaplen, reading goes on', async () => {
    const r = await readBoth(file(buildPcap({ snapLen: 100, records: [rec(0, 100), rec(1, 101), rec(2, 50)] })));
    expect(r.records.map((x) => x.index)).toEqual([0, 2]);
    expect(r.skipped).toEqual({ 'over-snaplen': 1 });
    expect(r.read + r.skippedTotal).toBe(3);
  });

  it('caplen > origLen: counted skip caplen-over-origlen', async () => {
    const r = await readBoth(file(buildPcap({ records: [rec(0), { ...rec(1), origLen: 59 }, rec(2)] })));
    expect(r.records.map((x) => x.index)).toEqual([0, 2]);
    expect(r.skipped).toEqual({ 'caplen-over-origlen': 1 });
  });

  it('incl_len above 262144 mid-file: error at that record (framing lost), earlier records kept', async () => {
    const good = buildPcap({ records: [rec(0), rec(1)] });
    const bad = new Bytes(true).u32(1).u32(2).u32(262145).u32(262145).raw(payload(300_000)).bytes();
    const path = file(concatBytes(good, bad, buildPcap({ records: [rec(3)] }).subarray(24)));
    const r = await readBoth(path);
    expect(r.records.length).toBe(2);
    expectError(r, path, good.length, /record 2 claims 262145 captured bytes, more than the 262144-byte limit; the file's framing is lost/);
  });

  it('an absurd 4 GB record length: the oracle stops at once instead of buffering', async () => {
    const good = buildPcap({ records: [rec(0)] });
    const bad = new Bytes(true).u32(1).u32(2).u32(0xfffffff0).u32(0xfffffff0).raw(new Uint8Array(4 << 20)).bytes();
    const path = file(concatBytes(good, bad));
    const r = await readBoth(path);
    expectError(r, path, good.length, /claims 4294967280 captured bytes/);
  });

  it('truncated last record: counted skip truncated', async () => {
    const whole = buildPcap({ records: [rec(0), rec(1), rec(2)] });
    const r = await readBoth(file(whole.subarray(0, whole.length - 10)));
    expect(r.records.length).toBe(2);
    expect(r.skipped).toEqual({ truncated: 1 });
    expect(r.error).toBeUndefined();
    // Where the cut record starts and how much of it is there: 16-byte header + 60 bytes, 10 missing.
    expect(r.cut).toEqual({ offset: 24 + 2 * 76, have: 66, need: 76, packet: true });
    expect(describeCut(r.cut!)).toBe('the file ends inside a record at offset 0xb0 (66 of its 76 bytes): it was cut short (a capture still being written, or an interrupted copy); that packet is not replayed');
  });

  it('a partial record header at the end: counted skip truncated', async () => {
    const whole = buildPcap({ records: [rec(0), rec(1)] });
    const r = await readBoth(file(concatBytes(whole, Uint8Array.of(1, 2, 3, 4, 5))));
    expect(r.records.length).toBe(2);
    expect(r.skipped).toEqual({ truncated: 1 });
    expect(r.cut).toEqual({ offset: whole.length, have: 5, packet: true });
    expect(describeCut(r.cut!)).toContain('(5 bytes, less than its header)');
  });

  it('only the file header and half a record header', async () => {
    const r = await readBoth(file(concatBytes(buildPcap({ records: [] }), new Uint8Array(8))));
    expect(r.records).toEqual([]);
    expect(r.skipped).toEqual({ truncated: 1 });
  });
});

// ---------------------------------------------------------------- pcapng

const LE = true;
const BE = false;
const ng = (...blocks: Uint8Array[]): string => file(concatBytes(...blocks), 'pcapng');

describe('pcapng: good files', () => {
  it('EPB, SPB and the obsolete PB, with per-interface link types', async () => {
    const path = ng(
      shb(LE),
      idb(LE, { linkType: 1, snapLen: 0 }),
      idb(LE, { linkType: 113, snapLen: 100 }),
      epb(LE, { ifid: 0, ts: 1_700_000_000_123_456n, data: payload(61, 1) }),
      epb(LE, { ifid: 1, ts: 5_000_001n, data: payload(64, 2), origLen: 1000 }),
      spb(LE, payload(42, 3)),
      pb(LE, { ifid: 1, ts: 7_000_000n, data: payload(30, 4) }),
    );
    const r = await readBoth(path, false);
    expect(r.error).toBeUndefined();
    expect(r.records.map((x) => [x.index, x.interfaceId, x.linkType, x.capLen, x.origLen, x.tsSec, x.tsNsec])).toEqual([
      [0, 0, 1, 61, 61, 1_700_000_000, 123_456_000],
      [1, 1, 113, 64, 1000, 5, 1000],
      [2, 0, 1, 42, 42, 0, 0],
      [3, 1, 113, 30, 30, 7, 0],
    ]);
    expect(r.records[0]!.data).toEqual(payload(61, 1));
    expect(r.records[2]!.data).toEqual(payload(42, 3));
    expect(r.records[0]!.offset).toBe(shb(LE).length + 2 * idb(LE).length);
    const c = openPcapng(path);
    expect([...c].length).toBe(4);
    expect(c.interfaces.map((i) => [i.linkType, i.snapLen])).toEqual([
      [1, 0],
      [113, 100],
    ]);
  });

  it('SPB: captured length is the smaller of the original length and interface 0 snaplen', async () => {
    const path = ng(shb(LE), idb(LE, { snapLen: 20 }), spb(LE, payload(20, 5), 64));
    const r = await readBoth(path, false);
    expect(r.records.map((x) => [x.capLen, x.origLen])).toEqual([[20, 64]]);
    expect(r.records[0]!.data).toEqual(payload(20, 5));
  });

  it('timestamp resolutions: if_tsresol powers of 10 and of 2, if_tsoffset, big values exactly', async () => {
    const T = 1_700_000_000n;
    const path = ng(
      shb(BE),
      idb(BE, { tsresol: 9 }), // ns
      idb(BE, { tsresol: 3, tsoffset: 100n }), // ms, +100 s
      idb(BE, { tsresol: 0x80 | 10 }), // 1/1024 s
      idb(BE, { tsresol: 0x80 | 20 }), // 1/1048576 s
      idb(BE, { tsresol: 12 }), // ps: needs the bigint path
      idb(BE, { tsresol: 0x80 | 3 }), // 1/8 s
      idb(BE, { tsresol: 6, tsoffset: -50n }),
      idb(BE, { tsresol: 0x80 | 40 }), // 2^-40 s
      epb(BE, { ifid: 0, ts: T * 1_000_000_000n + 999_999_999n, data: payload(1) }),
      epb(BE, { ifid: 1, ts: T * 1000n + 5n, data: payload(1) }),
      epb(BE, { ifid: 2, ts: T * 1024n + 1n, data: payload(1) }),
      epb(BE, { ifid: 3, ts: T * 1048576n + 3n, data: payload(1) }),
      epb(BE, { ifid: 4, ts: 12_345n * 1_000_000_000_000n + 7_000_123n, data: payload(1) }),
      epb(BE, { ifid: 5, ts: 8n * 10n + 7n, data: payload(1) }),
      epb(BE, { ifid: 6, ts: 0n, data: payload(1) }),
      epb(BE, { ifid: 7, ts: 3n * (1n << 40n) + (1n << 39n) + 1n, data: payload(1) }),
    );
    const r = await readBoth(path, false);
    expect(r.records.map((x) => [x.tsSec, x.tsNsec])).toEqual([
      [1_700_000_000, 999_999_999],
      [1_700_000_100, 5_000_000],
      [1_700_000_000, 976_562], // 1/1024 s = 976562.5 ns, floored
      [1_700_000_000, 2_861], // 3/1048576 s = 2861.02 ns
      [12_345, 7_000], // 7,000,123 ps
      [10, 875_000_000],
      [-50, 0],
      [3, 500_000_000], // + 1/2^40 s = 0.0009 ns, floored
    ]);
    const c = openPcapng(path);
    expect(c.interfaces).toEqual([]); // known once their blocks are read
    c.forEach(() => undefined);
    expect(c.interfaces.map((i) => i.unitsPerSecond)).toEqual([10n ** 9n, 1000n, 1024n, 1048576n, 10n ** 12n, 8n, 10n ** 6n, 1n << 40n]);
    c.close();
  });

  it('several sections, in both byte orders; a new section forgets the interfaces of the last', async () => {
    const path = ng(
      shb(LE),
      idb(LE, { linkType: 1 }),
      idb(LE, { linkType: 105 }),
      epb(LE, { ifid: 1, data: payload(10, 1) }),
      shb(BE),
      idb(BE, { linkType: 127 }),
      epb(BE, { ifid: 0, data: payload(11, 2) }),
      epb(BE, { ifid: 1, data: payload(12, 3) }), // interface 1 belonged to the first section
      shb(LE),
      idb(LE, { linkType: 1 }),
      epb(LE, { ifid: 0, data: payload(13, 4) }),
    );
    const r = await readBoth(path, false);
    expect(r.records.map((x) => [x.index, x.linkType, x.capLen])).toEqual([
      [0, 105, 10],
      [1, 127, 11],
      [3, 1, 13],
    ]);
    expect(r.skipped).toEqual({ 'unknown-interface': 1 });
    const c = openPcapng(path);
    c.forEach(() => undefined);
    expect(c.sections).toBe(3);
  });

  it('unknown and non-packet blocks are passed over by their length and counted', async () => {
    const path = ng(
      shb(LE),
      ngBlock(LE, 4, new Uint8Array(16)), // NRB
      idb(LE),
      ngBlock(LE, 0x12345678, payload(33)),
      epb(LE, { data: payload(20, 1) }),
      ngBlock(LE, 5, new Uint8Array(12)), // ISB
      ngBlock(LE, 0xbad, new Uint8Array(8)),
      ngBlock(LE, 0x40000bad, new Uint8Array(8)),
      ngBlock(LE, 0x0a, new Uint8Array(8)), // DSB
      epb(LE, { data: payload(21, 2), options: [{ code: 1, value: new TextEncoder().encode('a comment') }] }),
    );
    const r = await readBoth(path, false);
    expect(r.records.map((x) => x.capLen)).toEqual([20, 21]);
    expect(r.otherBlocks).toEqual({ NRB: 1, ISB: 1, DSB: 1, custom: 2, 'type-0x12345678': 1 });
    expect(r.skippedTotal).toBe(0);
  });

  it('an empty section (no interfaces, no packets)', async () => {
    const r = await readBoth(ng(shb(BE)), false);
    expect(r.records).toEqual([]);
    expect(r.error).toBeUndefined();
  });
});

describe('pcapng: bad files', () => {
  const head = concatBytes(shb(LE), idb(LE, { snapLen: 100 }));
  const good = epb(LE, { data: payload(40, 1) });

  it('an EPB for an interface never described: counted skip unknown-interface', async () => {
    const r = await readBoth(ng(head, epb(LE, { ifid: 3, data: payload(8) }), good), false);
    expect(r.records.map((x) => x.index)).toEqual([1]);
    expect(r.skipped).toEqual({ 'unknown-interface': 1 });
  });

  it('an SPB with no interface 0: counted skip unknown-interface', async () => {
    const r = await readBoth(ng(shb(LE), spb(LE, payload(8))), false);
    expect(r.skipped).toEqual({ 'unknown-interface': 1 });
  });

  it('captured length over the interface snaplen, over the original length, past the block: counted skips', async () => {
    const r = await readBoth(
      ng(
        head,
        epb(LE, { data: payload(104) }), // snaplen 100
        epb(LE, { data: payload(50), origLen: 49 }),
        epb(LE, { data: payload(8), capLen: 9 }), // runs past the block's body
        ngBlock(LE, 6, new Uint8Array(16)), // an EPB too short for its fields
        good,
      ),
      false,
    );
    expect(r.records.map((x) => x.index)).toEqual([4]);
    expect(r.skipped).toEqual({ 'over-snaplen': 1, 'caplen-over-origlen': 1, 'bad-block': 2 });
    expect(r.read + r.skippedTotal).toBe(5);
  });

  it('a block length not a multiple of 4: error at the length field', async () => {
    const bad = epb(LE, { data: payload(8), len: 42 });
    const path = ng(head, good, bad, good);
    const r = await readBoth(path, false);
    expect(r.records.length).toBe(1);
    expectError(r, path, head.length + good.length + 4, /block length 42 \(type 0x6\) is not a multiple of 4; the file's framing is lost/);
  });

  it('a block length below 12: error', async () => {
    const path = ng(head, good, ngBlock(LE, 6, new Uint8Array(0), { len: 8 }));
    expectError(await readBoth(path, false), path, head.length + good.length + 4, /block length 8 \(type 0x6\) is below 12/);
  });

  it('a block length above the block limit: error', async () => {
    const path = ng(head, ngBlock(LE, 6, new Uint8Array(4), { len: 0x7ffffff0 }));
    expectError(await readBoth(path, false), path, head.length + 4, /block length 2147483632 .* more than the 393216-byte limit/);
  });

  it('a packet block running past the end of the file: the last block, cut short (counted skip truncated)', async () => {
    const path = ng(head, good, epb(LE, { data: payload(8), len: 400 }));
    const r = await readBoth(path, false);
    expect(r.records.length).toBe(1);
    expect(r.skipped).toEqual({ truncated: 1 });
    expect(r.error).toBeUndefined();
  });

  it('a file cut inside a packet block, and inside a block header', async () => {
    const whole = concatBytes(head, good, good);
    const cut = await readBoth(ng(whole.subarray(0, whole.length - 5)), false);
    expect([cut.read, cut.skipped]).toEqual([1, { truncated: 1 }]);
    expect(cut.cut).toEqual({ offset: head.length + good.length, have: good.length - 5, need: good.length, packet: true });
    const headerOnly = await readBoth(ng(concatBytes(head, good, good.subarray(0, 6))), false);
    expect([headerOnly.read, headerOnly.skipped]).toEqual([1, { truncated: 1 }]);
    expect(headerOnly.cut).toEqual({ offset: head.length + good.length, have: 6, packet: true });
  });

  it('a non-packet block cut short at the end is counted among other blocks, not records', async () => {
    const nrb = ngBlock(LE, 4, new Uint8Array(40));
    const r = await readBoth(ng(head, good, nrb.subarray(0, 20)), false);
    expect(r.read).toBe(1);
    expect(r.skippedTotal).toBe(0);
    expect(r.otherBlocks).toEqual({ truncated: 1 });
    expect(r.cut).toEqual({ offset: head.length + good.length, have: 20, need: 52, packet: false });
  });

  it('the trailing length differs from the leading one: error at the trailer', async () => {
    const bad = ngBlock(LE, 6, new Uint8Array(28), { trailer: 44 });
    const path = ng(head, bad);
    expectError(await readBoth(path, false), path, head.length + bad.length - 4, /block length 40 at its start but 44 at its end/);
  });

  it('a bad byte-order magic, an unsupported version: errors', async () => {
    const p1 = ng(head, good, shb(LE, { bom: 0x11223344 }));
    expectError(await readBoth(p1, false), p1, head.length + good.length + 8, /bad byte-order magic 0x44332211/);
    const p2 = ng(shb(LE, { major: 2 }));
    expectError(await readBoth(p2, false), p2, 12, /unsupported pcapng version 2\.0/);
  });

  it('an IDB option running past the block, a malformed if_tsresol: errors', async () => {
    const i1 = idb(LE, { options: [{ code: 2, value: new Uint8Array(4), length: 200 }] });
    const p1 = ng(shb(LE), i1);
    expectError(await readBoth(p1, false), p1, shb(LE).length + 16, /option 2 of 200 bytes runs past the block's end/);
    const i2 = idb(LE, { options: [{ code: 9, value: Uint8Array.of(6, 0) }] });
    const p2 = ng(shb(LE), i2);
    expectError(await readBoth(p2, false), p2, shb(LE).length + 16, /if_tsresol option of 2 bytes/);
  });

  it('a file that does not start with a section header block is not pcapng', async () => {
    const path = ng(idb(LE), good);
    expectError(await readFast(path), path, 0, /not a pcap or pcapng file: magic 0x01000000/);
    expect(() => openPcapng(path)).toThrow(/not a pcapng file/);
  });
});
