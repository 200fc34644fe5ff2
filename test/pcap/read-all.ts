/** Reads a whole capture with one of the readers into plain values the tests can compare. */
import { expect } from 'vitest';
import { openCapture } from '../../xdp/pcap/capture.js';
import { CaptureError, skippedTotal, type CaptureRecord, type CaptureStats, type CutRecord, type SkipReason } from '../../xdp/pcap/capture-record.js';
import { readWithPcapParser } from '../../xdp/pcap/pcap-parser-reader.js';

export interface PlainRecord {
  index: number;
  offset: number;
  tsSec: number;
  tsNsec: number;
  capLen: number;
  origLen: number;
  interfaceId: number;
  linkType: number;
  data: Uint8Array;
}

export interface ReadResult {
  records: PlainRecord[];
  read: number;
  skipped: Partial<Record<SkipReason, number>>;
  skippedTotal: number;
  otherBlocks: Record<string, number>;
  /** The record or block the file ends inside (the fast readers only). */
  cut: CutRecord | undefined;
  /** The CaptureError that stopped reading, if one did. */
  error: CaptureError | undefined;
}

export function plain(r: CaptureRecord): PlainRecord {
  return {
    index: r.index,
    offset: r.offset,
    tsSec: r.tsSec,
    tsNsec: r.tsNsec,
    capLen: r.capLen,
    origLen: r.origLen,
    interfaceId: r.interfaceId,
    linkType: r.linkType,
    data: new Uint8Array(r.data), // a copy: views die with the next record
  };
}

function result(records: PlainRecord[], stats: CaptureStats | undefined, error: CaptureError | undefined): ReadResult {
  return {
    records,
    read: stats?.read ?? 0,
    skipped: { ...(stats?.skipped ?? {}) },
    skippedTotal: stats === undefined ? 0 : skippedTotal(stats),
    otherBlocks: { ...(stats?.otherBlocks ?? {}) },
    cut: stats?.cut,
    error,
  };
}

/** Anything thrown that is not a CaptureError fails the test right there. */
function asCaptureError(e: unknown): CaptureError {
  if (!(e instanceof CaptureError)) {
    expect.fail(`expected a CaptureError, got ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e)}`);
  }
  return e;
}

export type FastMode = 'sync' | 'async' | 'batches';

/** The fast reader (openCapture), consumed synchronously, by `for await`, or by batches. */
export async function readFast(path: string, mode: FastMode = 'sync', options: { chunkBytes?: number } = {}): Promise<ReadResult> {
  const records: PlainRecord[] = [];
  let stats: CaptureStats | undefined;
  try {
    const capture = openCapture(path, options);
    stats = capture.stats;
    if (mode === 'sync') for (const r of capture) records.push(plain(r));
    else if (mode === 'async') for await (const r of capture) records.push(plain(r));
    else for await (const batch of capture.batches(100)) for (const r of batch) records.push(plain(r));
    expect(stats.errors).toEqual([]);
  } catch (e) {
    const err = asCaptureError(e);
    if (stats !== undefined) expect(stats.errors).toEqual([err]);
    return result(records, stats, err);
  }
  return result(records, stats, undefined);
}

/** Same, synchronously (for the fuzz loop). */
export function readFastSync(path: string, options: { chunkBytes?: number } = {}): ReadResult {
  const records: PlainRecord[] = [];
  let stats: CaptureStats | undefined;
  try {
    const capture = openCapture(path, options);
    stats = capture.stats;
    for (const r of capture) records.push(plain(r));
  } catch (e) {
    return result(records, stats, asCaptureError(e));
  }
  return result(records, stats, undefined);
}

/** The pcap-parser oracle. */
export async function readOracle(path: string): Promise<ReadResult> {
  const records: PlainRecord[] = [];
  const reader = readWithPcapParser(path);
  try {
    for await (const r of reader) records.push(plain(r));
  } catch (e) {
    return result(records, reader.stats, asCaptureError(e));
  }
  return result(records, reader.stats, undefined);
}

/** First difference between two record lists, or undefined. */
export function firstDifference(a: readonly PlainRecord[], b: readonly PlainRecord[]): string | undefined {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    for (const k of ['index', 'offset', 'tsSec', 'tsNsec', 'capLen', 'origLen', 'interfaceId', 'linkType'] as const) {
      if (x[k] !== y[k]) return `record ${i}: ${k} ${x[k]} vs ${y[k]}`;
    }
    if (Buffer.compare(x.data, y.data) !== 0) return `record ${i}: bytes differ`;
  }
  if (a.length !== b.length) return `${a.length} records vs ${b.length}`;
  return undefined;
}
