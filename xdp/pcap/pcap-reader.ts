/**
 * A zero-copy streaming reader for classic libpcap capture files, as tcpdump's
 * pcap-savefile(5) describes them: a 24-byte file header (magic, version 2.x,
 * two unused fields, snapshot length, link-layer type), then per packet a
 * 16-byte record header (seconds, fraction, captured length "incl_len",
 * original length) and the captured bytes.
 *
 * It reads both byte orders and both timestamp resolutions: magic 0xa1b2c3d4
 * (microsecond fractions) and 0xa1b23c4d (nanosecond fractions), each as written
 * by a big- or a little-endian host. Fractions are reported in nanoseconds.
 *
 * Hand-written because the replay's hot path needs it fast: the file is read in
 * 1 MiB chunks into one reused buffer and each record's bytes are handed out as
 * a view into that buffer (valid until the next record is requested; the
 * `copy` option gives private copies instead). pcap-parser, the npm package, is
 * several times slower — it emits an event and allocates objects per packet and
 * concatenates its buffers — so it only serves as the independent oracle the
 * tests compare this reader against (pcap-parser-reader.ts).
 *
 * Defects (see docs/pcap.md): a record longer than MAX_RECORD_BYTES (262144)
 * stops reading with a CaptureError naming the file and offset, since the
 * framing is lost from there; a record cut short by the end of the file, one
 * longer than the snapshot length, one that captured more than the packet's
 * original length are passed over and counted in `stats.skipped` (`truncated`,
 * `over-snaplen`, `caplen-over-origlen`). Zero-length records are records: they
 * are yielded with empty `data`.
 */
import { closeSync } from 'node:fs';
import {
  CaptureReader,
  END,
  NEED_MORE,
  openSource,
  type ChunkWindow,
  type OpenSource,
  type RecordDecoder,
  type StepResult,
} from './capture-reader.js';
import {
  CaptureError,
  MAX_RECORD_BYTES,
  hexBytes,
  newStats,
  type CaptureReadOptions,
  type CaptureRecord,
  type CaptureStats,
  type SkipReason,
} from './capture-record.js';
import { PCAP_FILE_HEADER_BYTES, PCAP_RECORD_HEADER_BYTES } from './pcap-writer.js';

/** The four magic numbers as a little-endian read of the first four bytes sees them. */
const MAGIC_US_LE = 0xa1b2c3d4;
const MAGIC_US_BE = 0xd4c3b2a1;
const MAGIC_NS_LE = 0xa1b23c4d;
const MAGIC_NS_BE = 0x4d3cb2a1;

/** What the file header says. */
export interface PcapHeader {
  /** Byte order the file was written in. */
  readonly littleEndian: boolean;
  /** Timestamp fractions are nanoseconds (magic 0xa1b23c4d) rather than microseconds. */
  readonly nanosecond: boolean;
  readonly versionMajor: number;
  readonly versionMinor: number;
  /** Snapshot length as written (0 and values above the record limit are read as the limit). */
  readonly snapLen: number;
  /** LINKTYPE_* (low 16 bits of the header's link-layer field). */
  readonly linkType: number;
  /** The whole link-layer field, FCS-length bits included. */
  readonly linkTypeField: number;
}

/**
 * Is `magic` (the first four bytes read little-endian) a classic pcap magic?
 * Also answers which byte order and resolution it means.
 */
export function pcapMagic(magic: number): { littleEndian: boolean; nanosecond: boolean } | undefined {
  switch (magic >>> 0) {
    case MAGIC_US_LE:
      return { littleEndian: true, nanosecond: false };
    case MAGIC_US_BE:
      return { littleEndian: false, nanosecond: false };
    case MAGIC_NS_LE:
      return { littleEndian: true, nanosecond: true };
    case MAGIC_NS_BE:
      return { littleEndian: false, nanosecond: true };
    default:
      return undefined;
  }
}

/** Decodes the 24-byte file header at the start of `w` (already loaded). */
function readPcapHeader(w: ChunkWindow): PcapHeader {
  const file = w.name;
  if (w.avail < PCAP_FILE_HEADER_BYTES) {
    throw new CaptureError(
      `truncated pcap file header: ${w.avail} of ${PCAP_FILE_HEADER_BYTES} bytes (starts ${hexBytes(w.bytes.subarray(0, Math.min(w.avail, 4)))})`,
      { file, offset: 0 },
    );
  }
  const dv = w.view;
  const kind = pcapMagic(dv.getUint32(0, true));
  if (kind === undefined) {
    throw new CaptureError(`not a pcap file: magic ${hexBytes(w.bytes.subarray(0, 4))}`, { file, offset: 0 });
  }
  const le = kind.littleEndian;
  const versionMajor = dv.getUint16(4, le);
  const versionMinor = dv.getUint16(6, le);
  if (versionMajor !== 2) {
    throw new CaptureError(`unsupported pcap version ${versionMajor}.${versionMinor} (only 2.x is read)`, { file, offset: 4 });
  }
  const linkTypeField = dv.getUint32(20, le);
  return {
    littleEndian: le,
    nanosecond: kind.nanosecond,
    versionMajor,
    versionMinor,
    snapLen: dv.getUint32(16, le),
    linkType: linkTypeField & 0xffff,
    linkTypeField,
  };
}

/**
 * The captured-length limit records are held to: the file's snapshot length,
 * or `maxRecord` when the header says 0 (unknown) or more than `maxRecord`.
 */
export function effectiveSnapLen(snapLen: number, maxRecord: number): number {
  return snapLen === 0 || snapLen > maxRecord ? maxRecord : snapLen;
}

class PcapDecoder implements RecordDecoder {
  private readonly w: ChunkWindow;
  private readonly stats: CaptureStats;
  private readonly le: boolean;
  private readonly fracScale: number;
  private readonly linkType: number;
  private readonly snapLimit: number;
  private readonly maxRecord: number;
  private readonly copy: boolean;
  private index = 0;

  constructor(w: ChunkWindow, header: PcapHeader, stats: CaptureStats, options: CaptureReadOptions) {
    this.w = w;
    this.stats = stats;
    this.le = header.littleEndian;
    this.fracScale = header.nanosecond ? 1 : 1000;
    this.linkType = header.linkType;
    this.maxRecord = options.maxRecordBytes ?? MAX_RECORD_BYTES;
    this.snapLimit = effectiveSnapLen(header.snapLen, this.maxRecord);
    this.copy = options.copy ?? false;
    w.pos = PCAP_FILE_HEADER_BYTES;
  }

  step(): StepResult {
    // The common case inline: a whole, well-formed record in the window.
    const w = this.w;
    const pos = w.pos;
    if (w.end - pos >= PCAP_RECORD_HEADER_BYTES) {
      const dv = w.view;
      const le = this.le;
      const capLen = dv.getUint32(pos + 8, le);
      if (capLen <= this.snapLimit && pos + PCAP_RECORD_HEADER_BYTES + capLen <= w.end) {
        const origLen = dv.getUint32(pos + 12, le);
        if (capLen <= origLen) return this.record(pos, capLen, origLen);
      }
    }
    return this.slowStep();
  }

  private record(pos: number, capLen: number, origLen: number): CaptureRecord {
    const w = this.w;
    const dv = w.view;
    const start = pos + PCAP_RECORD_HEADER_BYTES;
    w.pos = start + capLen;
    this.stats.read++;
    return {
      index: this.index++,
      offset: w.base + pos,
      tsSec: dv.getUint32(pos, this.le),
      tsNsec: dv.getUint32(pos + 4, this.le) * this.fracScale,
      capLen,
      origLen,
      interfaceId: 0,
      linkType: this.linkType,
      data: this.copy ? w.bytes.slice(start, start + capLen) : new Uint8Array(w.buffer, start, capLen),
    };
  }

  private skip(reason: SkipReason): void {
    this.stats.skipped[reason] = (this.stats.skipped[reason] ?? 0) + 1;
    this.index++;
  }

  private fail(message: string, offset: number): never {
    const err = new CaptureError(message, { file: this.w.name, offset });
    this.stats.errors.push(err);
    throw err;
  }

  private slowStep(): StepResult {
    const w = this.w;
    for (;;) {
      const pos = w.pos;
      const avail = w.end - pos;
      if (avail < PCAP_RECORD_HEADER_BYTES) {
        if (!w.eof) return NEED_MORE;
        if (avail === 0) return END;
        // Fewer bytes than a record header at the end: a record cut short.
        this.skip('truncated');
        this.stats.cut = { offset: w.offsetOf(pos), have: avail, packet: true };
        w.pos = w.end;
        return END;
      }
      const dv = w.view;
      const capLen = dv.getUint32(pos + 8, this.le);
      const origLen = dv.getUint32(pos + 12, this.le);
      if (capLen > this.maxRecord) {
        this.fail(
          `record ${this.index} claims ${capLen} captured bytes, more than the ${this.maxRecord}-byte limit; the file's framing is lost from here`,
          w.offsetOf(pos),
        );
      }
      const total = PCAP_RECORD_HEADER_BYTES + capLen;
      if (total > avail) {
        if (!w.eof) return NEED_MORE;
        this.skip('truncated');
        this.stats.cut = { offset: w.offsetOf(pos), have: avail, need: total, packet: true };
        w.pos = w.end;
        return END;
      }
      if (capLen > this.snapLimit) {
        this.skip('over-snaplen');
        w.pos = pos + total;
        continue;
      }
      if (capLen > origLen) {
        this.skip('caplen-over-origlen');
        w.pos = pos + total;
        continue;
      }
      return this.record(pos, capLen, origLen);
    }
  }
}

/** An open classic pcap file: its header, then its records (see CaptureReader). */
export class PcapReader extends CaptureReader {
  readonly format = 'pcap' as const;
  readonly header: PcapHeader;
  /** LINKTYPE_* of every record. */
  readonly linkType: number;
  /** The captured-length limit records are held to (see effectiveSnapLen). */
  readonly snapLen: number;

  private constructor(source: OpenSource, decoder: PcapDecoder, stats: CaptureStats, header: PcapHeader, snapLen: number) {
    super(source, decoder, stats);
    this.header = header;
    this.linkType = header.linkType;
    this.snapLen = snapLen;
  }

  /** Opens a classic pcap file and reads its header (throws CaptureError if it is not one). */
  static open(path: string, options: CaptureReadOptions = {}): PcapReader {
    const maxRecord = options.maxRecordBytes ?? MAX_RECORD_BYTES;
    const source = openSource(path, options, maxRecord + PCAP_RECORD_HEADER_BYTES);
    const stats = newStats();
    try {
      const header = readPcapHeader(source.window);
      const decoder = new PcapDecoder(source.window, header, stats, options);
      return new PcapReader(source, decoder, stats, header, effectiveSnapLen(header.snapLen, maxRecord));
    } catch (e) {
      closeSync(source.fd);
      throw e;
    }
  }
}

/** Opens a classic pcap file (throws CaptureError if it is not one). */
export function openPcap(path: string, options: CaptureReadOptions = {}): PcapReader {
  return PcapReader.open(path, options);
}
