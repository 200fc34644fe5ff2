/**
 * The independent oracle for the classic pcap reader: the npm package
 * `pcap-parser` (0.2.1) wrapped as an async iterator that yields the same record
 * shape and keeps the same statistics as pcap-reader.ts, so tests can compare
 * the two record for record. pcap-parser does its own framing (it buffers the
 * stream and cuts records by their headers); this wrapper only listens to its
 * events ('globalHeader', 'packetHeader', 'packetData', 'end', 'error') and
 * applies the shared rules of capture-record.ts to what they report.
 *
 * Not for the hot path: pcap-parser emits events and allocates objects for every
 * packet and concatenates buffers (about 5× slower than pcap-reader.ts; see
 * docs/pcap.md).
 *
 * What pcap-parser does not handle, and what the wrapper does about it:
 * - Nanosecond captures (magic 0xa1b23c4d): pcap-parser rejects the magic
 *   ("unknown magic number"). The wrapper rewrites the magic in the stream to the
 *   microsecond one of the same byte order and reports the fraction as
 *   nanoseconds (the record layout is the same).
 * - Absurd lengths: pcap-parser waits for as many bytes as a record header claims
 *   (4 GB if it says so), buffering the whole rest of the file meanwhile. The
 *   wrapper checks every record header in the 'packetHeader' event, which
 *   pcap-parser emits before it waits for the body: a captured length above the
 *   limit (262144) stops reading there with a CaptureError and the stream is
 *   destroyed, so no absurd record is ever buffered.
 * - Truncation: pcap-parser silently drops a final record cut short, and any
 *   trailing bytes too few for a record header. The wrapper counts the bytes the
 *   stream delivered and what the records consumed, and counts the difference as
 *   one `truncated` skip, as pcap-reader.ts does.
 * - A file shorter than the 24-byte header: pcap-parser just ends; the wrapper
 *   reports a CaptureError.
 * - Versions: pcap-parser rejects a header only when both the major version is
 *   not 2 and the minor not 4 (it means "or"); the wrapper leaves that as it is,
 *   so it may read files pcap-reader.ts refuses (version 3.4, say).
 * - pcapng: not read by pcap-parser at all ("unknown magic number").
 * - Its `new Buffer()` calls print Node's one-time DeprecationWarning.
 */
import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import { Transform, type TransformCallback } from 'node:stream';
import type { EventEmitter } from 'node:events';
import {
  CaptureError,
  MAX_RECORD_BYTES,
  newStats,
  type CaptureRecord,
  type CaptureStats,
  type SkipReason,
} from './capture-record.js';

/** What pcap-parser 0.2.1 emits (it ships no type declarations). */
interface PcapParserGlobalHeader {
  magicNumber: number;
  majorVersion: number;
  minorVersion: number;
  gmtOffset: number;
  timestampAccuracy: number;
  snapshotLength: number;
  linkLayerType: number;
}
interface PcapParserPacketHeader {
  timestampSeconds: number;
  timestampMicroseconds: number;
  capturedLength: number;
  originalLength: number;
}
interface PcapParserModule {
  parse(input: string | NodeJS.ReadableStream): EventEmitter;
}

const require = createRequire(import.meta.url);
const pcapParser = require('pcap-parser') as PcapParserModule;

/** The header as pcap-parser reported it, plus the resolution the wrapper found. */
export interface PcapParserHeader {
  readonly littleEndian: boolean;
  readonly nanosecond: boolean;
  readonly versionMajor: number;
  readonly versionMinor: number;
  readonly snapLen: number;
  readonly linkType: number;
}

export interface PcapParserReadOptions {
  /** Longest captured length accepted; 262144 by default. */
  maxRecordBytes?: number;
  /** File name to use in messages. */
  name?: string;
  /** Stream chunk size (pcap-parser's buffering unit); 64 KiB by default. */
  highWaterMark?: number;
}

const QUEUE_HIGH = 8192;
const QUEUE_LOW = 1024;

/**
 * Records of a classic pcap file read by pcap-parser. Iterate it once with
 * `for await`; each record's `data` is its own (pcap-parser's slice of the chunk
 * it arrived in) and stays valid.
 */
export class PcapParserReader implements AsyncIterable<CaptureRecord> {
  readonly name: string;
  readonly stats: CaptureStats = newStats();
  header: PcapParserHeader | undefined;
  private readonly maxRecord: number;
  private readonly source: NodeJS.ReadableStream & { destroy(): void };
  private readonly feed: Transform;
  private queue: CaptureRecord[] = [];
  private head = 0;
  private finished = false;
  private failure: CaptureError | undefined;
  private wake: (() => void) | undefined;
  private paused = false;
  // framing as the events report it
  private delivered = 0;
  private consumed = 0;
  private pending: PcapParserPacketHeader | undefined;
  private pendingOffset = 0;
  private index = 0;
  private nanosecond = false;
  private littleEndian = false;
  private snapLimit = MAX_RECORD_BYTES;

  constructor(path: string, options: PcapParserReadOptions = {}) {
    this.name = options.name ?? path;
    this.maxRecord = options.maxRecordBytes ?? MAX_RECORD_BYTES;
    const source = createReadStream(path, { highWaterMark: options.highWaterMark ?? 65536 });
    this.source = source;
    let first = true;
    // Counts what the file delivers, and turns a nanosecond magic into the microsecond one.
    this.feed = new Transform({
      transform: (chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void => {
        this.delivered += chunk.length;
        if (first) {
          first = false;
          if (chunk.length >= 4) {
            const magic = chunk.readUInt32LE(0);
            this.littleEndian = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
            if (magic === 0xa1b23c4d || magic === 0x4d3cb2a1) {
              this.nanosecond = true;
              chunk = Buffer.from(chunk);
              chunk.writeUInt32LE(magic === 0xa1b23c4d ? 0xa1b2c3d4 : 0xd4c3b2a1, 0);
            }
          }
        }
        done(null, chunk);
      },
    });
    source.on('error', (e: Error) => this.stop(new CaptureError(`read failed: ${e.message}`, { file: this.name })));
    source.pipe(this.feed);
    const parser = pcapParser.parse(this.feed);
    parser.on('globalHeader', (h: PcapParserGlobalHeader) => this.onGlobalHeader(h));
    parser.on('packetHeader', (h: PcapParserPacketHeader) => this.onPacketHeader(h));
    parser.on('packetData', (d: Buffer) => this.onPacketData(d));
    parser.on('error', (e: Error) => this.stop(new CaptureError(`pcap-parser: ${e.message}`, { file: this.name, offset: 0 })));
    parser.on('end', () => this.onEnd());
  }

  private onGlobalHeader(h: PcapParserGlobalHeader): void {
    if (this.finished) return;
    // pcap-parser reads the magic in the byte order it decided on (so it always
    // reads back as 0xa1b2c3d4); the order comes from the wrapper's look at the bytes.
    this.header = {
      littleEndian: this.littleEndian,
      nanosecond: this.nanosecond,
      versionMajor: h.majorVersion,
      versionMinor: h.minorVersion,
      snapLen: h.snapshotLength,
      linkType: h.linkLayerType & 0xffff,
    };
    const snap = h.snapshotLength;
    this.snapLimit = snap === 0 || snap > this.maxRecord ? this.maxRecord : snap;
    this.consumed = 24;
  }

  private onPacketHeader(h: PcapParserPacketHeader): void {
    if (this.finished) return;
    this.pendingOffset = this.consumed;
    this.consumed += 16;
    if (h.capturedLength > this.maxRecord) {
      // Stop before pcap-parser starts waiting for (and buffering) the body.
      this.stop(
        new CaptureError(
          `record ${this.index} claims ${h.capturedLength} captured bytes, more than the ${this.maxRecord}-byte limit; the file's framing is lost from here`,
          { file: this.name, offset: this.pendingOffset },
        ),
      );
      return;
    }
    this.pending = h;
  }

  private onPacketData(data: Buffer): void {
    if (this.finished) return;
    const h = this.pending;
    if (h === undefined) return;
    this.pending = undefined;
    this.consumed += data.length;
    const capLen = h.capturedLength;
    let reason: SkipReason | undefined;
    if (capLen > this.snapLimit) reason = 'over-snaplen';
    else if (capLen > h.originalLength) reason = 'caplen-over-origlen';
    if (reason !== undefined) {
      this.skip(reason);
      return;
    }
    const header = this.header;
    this.push({
      index: this.index++,
      offset: this.pendingOffset,
      tsSec: h.timestampSeconds,
      tsNsec: this.nanosecond ? h.timestampMicroseconds : h.timestampMicroseconds * 1000,
      capLen,
      origLen: h.originalLength,
      interfaceId: 0,
      linkType: header === undefined ? 0 : header.linkType,
      data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    });
  }

  private onEnd(): void {
    if (this.finished) return;
    if (this.header === undefined) {
      this.stop(new CaptureError(`truncated pcap file header: ${this.delivered} of 24 bytes`, { file: this.name, offset: 0 }));
      return;
    }
    // A record header without its body, or bytes too few for a header: one record cut short.
    if (this.pending !== undefined || this.delivered > this.consumed) this.skip('truncated');
    this.pending = undefined;
    this.finish();
  }

  private skip(reason: SkipReason): void {
    this.stats.skipped[reason] = (this.stats.skipped[reason] ?? 0) + 1;
    this.index++;
  }

  private push(record: CaptureRecord): void {
    this.queue.push(record);
    if (!this.paused && this.queue.length - this.head >= QUEUE_HIGH) {
      this.paused = true;
      this.feed.pause();
    }
    this.signal();
  }

  private signal(): void {
    const wake = this.wake;
    if (wake !== undefined) {
      this.wake = undefined;
      wake();
    }
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.source.destroy();
    this.feed.destroy();
    this.signal();
  }

  private stop(err: CaptureError): void {
    if (this.finished) return;
    this.failure = err;
    this.stats.errors.push(err);
    this.finish();
  }

  /** Stops reading (the rest of the file is not read). */
  close(): void {
    this.queue = [];
    this.head = 0;
    this.finish();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<CaptureRecord, void, undefined> {
    try {
      for (;;) {
        if (this.head < this.queue.length) {
          const r = this.queue[this.head++]!;
          if (this.head === this.queue.length) {
            this.queue = [];
            this.head = 0;
          }
          if (this.paused && this.queue.length - this.head <= QUEUE_LOW) {
            this.paused = false;
            this.feed.resume();
          }
          this.stats.read++;
          yield r;
          continue;
        }
        if (this.failure !== undefined) throw this.failure;
        if (this.finished) return;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
      }
    } finally {
      this.close();
    }
  }
}

/** Opens `path` with pcap-parser (see PcapParserReader). */
export function readWithPcapParser(path: string, options: PcapParserReadOptions = {}): PcapParserReader {
  return new PcapParserReader(path, options);
}
