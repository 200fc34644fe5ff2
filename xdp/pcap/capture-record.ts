/**
 * What every capture reader in this folder yields and reports: the record shape,
 * the running statistics (records read, records skipped by reason, the error that
 * stopped reading), the options they share, and `CaptureError`, the typed error
 * a reader throws when it cannot go on (the framing of the file is lost, or the
 * file is not a capture at all).
 *
 * The readers differ in format (classic pcap, pcapng) and in purpose (the fast
 * hand-written readers for the replay's hot path, the pcap-parser wrapper that
 * tests use as an independent oracle) but agree on these rules, so a test can
 * compare them record for record and count for count. docs/pcap.md lists the
 * rules: which defects are counted skips and which stop reading.
 */
import { XdpError, type Location } from '../errors.js';

/** Longest captured length accepted in a record (libpcap's and tcpdump's maximum snapshot length). */
export const MAX_RECORD_BYTES = 262144;

/**
 * One packet of a capture.
 *
 * `data` is, by default, a view into the reader's reused chunk buffer: it stays
 * valid only until the next record is requested (the buffer is refilled and
 * shifted under it). Read it, or copy it (`data.slice()`), before asking for the
 * next record, or open the capture with `{ copy: true }` to get a private copy
 * of every packet.
 */
export interface CaptureRecord {
  /** 0-based position of the record among all records of the file, skipped ones included. */
  readonly index: number;
  /** Byte offset of the record (pcap record header, pcapng block) in the file. */
  readonly offset: number;
  /** Seconds since the Unix epoch (after any pcapng if_tsoffset). */
  readonly tsSec: number;
  /**
   * Fraction of the second in nanoseconds. Taken from the file as it is: a classic
   * pcap record's microseconds times 1000, so a malformed fraction of 1e6 µs or
   * more gives 1e9 ns or more (it is not carried into `tsSec`).
   */
  readonly tsNsec: number;
  /** Bytes captured (the length of `data`). */
  readonly capLen: number;
  /** Length of the packet on the wire. */
  readonly origLen: number;
  /** pcapng interface the packet came in on; 0 for classic pcap. */
  readonly interfaceId: number;
  /** LINKTYPE_* of the packet's link layer (low 16 bits of the header field). */
  readonly linkType: number;
  /** The captured bytes (see above for how long they stay valid). */
  readonly data: Uint8Array;
}

/**
 * Why a record was skipped (passed over and counted, reading goes on):
 * - `truncated`: the file ends inside the record (a cut final record).
 * - `over-snaplen`: more bytes captured than the file's (interface's) snapshot length.
 * - `caplen-over-origlen`: more bytes captured than the packet had on the wire.
 * - `unknown-interface`: a pcapng packet block names an interface no IDB of its section defined.
 * - `bad-block`: a pcapng packet block too short for its own fields, or whose
 *   captured length runs past the block's body (the block length still frames it).
 */
export type SkipReason =
  | 'truncated'
  | 'over-snaplen'
  | 'caplen-over-origlen'
  | 'unknown-interface'
  | 'bad-block';

export const SKIP_REASONS: readonly SkipReason[] = [
  'truncated',
  'over-snaplen',
  'caplen-over-origlen',
  'unknown-interface',
  'bad-block',
];

/** Reading stopped: the file is not a capture, or its framing is lost at `location.offset`. */
export class CaptureError extends XdpError {
  constructor(message: string, location: Location) {
    super(message, location);
  }
}

/** Counters a reader keeps up to date while it reads (one object per open capture). */
export interface CaptureStats {
  /** Records yielded so far. */
  read: number;
  /** Records passed over, by reason (only reasons that occurred are present). */
  skipped: Partial<Record<SkipReason, number>>;
  /**
   * The error that stopped reading, if any (at most one: reading stops at it).
   * It is also thrown to the consumer; it is kept here so a caller that caught
   * it, or one that only looks at the statistics, still sees it.
   */
  errors: CaptureError[];
  /**
   * pcapng blocks other than packets and headers that were passed over, by kind
   * (`NRB`, `ISB`, `DSB`, `custom`, `type-0x...`), plus `truncated` for a cut
   * final block that was not a packet block. Always empty for classic pcap.
   */
  otherBlocks: Record<string, number>;
  /** The file ends inside this record or block (a cut capture): where, and how much of it is there. */
  cut?: CutRecord;
}

/** The record or block a cut capture ends inside. */
export interface CutRecord {
  /** File offset where the record (or block) starts. */
  readonly offset: number;
  /** Bytes of it in the file. */
  readonly have: number;
  /** Bytes its header says it has, when the header itself is whole. */
  readonly need?: number;
  /** A packet record (counted as skipped `truncated`), or another pcapng block (`otherBlocks.truncated`). */
  readonly packet: boolean;
}

export function newStats(): CaptureStats {
  return { read: 0, skipped: {}, errors: [], otherBlocks: {} };
}

/** One line for a cut capture: where it ends and what is lost. */
export function describeCut(cut: CutRecord): string {
  const what = cut.packet ? 'record' : 'block';
  const size = cut.need !== undefined ? `${cut.have} of its ${cut.need} bytes` : `${cut.have} bytes, less than its header`;
  return `the file ends inside a ${what} at offset 0x${cut.offset.toString(16)} (${size}): it was cut short ` +
    `(a capture still being written, or an interrupted copy)${cut.packet ? '; that packet is not replayed' : ''}`;
}

/** Total records skipped, all reasons together. */
export function skippedTotal(stats: CaptureStats): number {
  let n = 0;
  for (const reason of SKIP_REASONS) n += stats.skipped[reason] ?? 0;
  return n;
}

export interface CaptureReadOptions {
  /** Give every record's `data` its own copy instead of a view into the chunk buffer. */
  copy?: boolean;
  /** Size of the reused read buffer; 1 MiB by default (raised to fit the longest record or block). */
  chunkBytes?: number;
  /** Longest captured length accepted; 262144 (MAX_RECORD_BYTES) by default. */
  maxRecordBytes?: number;
  /** File name to use in messages instead of the path opened. */
  name?: string;
}

/** Leading bytes of a file as hex, for "not a capture" messages. */
export function hexBytes(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s.length > 0 ? `0x${s}` : '(none)';
}
