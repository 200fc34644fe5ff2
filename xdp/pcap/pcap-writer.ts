/**
 * A writer for classic libpcap capture files ("savefiles", as tcpdump's
 * pcap-savefile(5) manual page describes them): a 24-byte file header, then one
 * 16-byte record header and the captured bytes per packet.
 *
 * Files are written little-endian, version 2.4, with magic 0xa1b2c3d4 when the
 * record timestamps' fraction counts microseconds and 0xa1b23c4d when it counts
 * nanoseconds. Packets longer than the snapshot length are cut to it; the record
 * keeps their original length.
 *
 * Hand-written on purpose: writing the format takes a page of code, so it needs
 * no dependency; the reading side is separate, and tests check what this writes
 * with an independent reader (pcap-parser, tcpdump).
 *
 * Two forms: `createPcapWriter` builds a whole file in memory (`bytes()`), and
 * `openPcapFile` streams records to a file path or an open file descriptor.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { concatBytes } from '../bytes/concat.js';

/** Link-layer header type of Ethernet frames (LINKTYPE_ETHERNET). */
export const LINKTYPE_ETHERNET = 1;
/** File magic when timestamp fractions are microseconds. */
export const PCAP_MAGIC_MICROSECONDS = 0xa1b2c3d4;
/** File magic when timestamp fractions are nanoseconds. */
export const PCAP_MAGIC_NANOSECONDS = 0xa1b23c4d;
export const PCAP_VERSION_MAJOR = 2;
export const PCAP_VERSION_MINOR = 4;
export const PCAP_FILE_HEADER_BYTES = 24;
export const PCAP_RECORD_HEADER_BYTES = 16;
/** tcpdump's default snapshot length. */
export const DEFAULT_SNAPLEN = 262144;

export interface PcapWriterOptions {
  /** LINKTYPE_* value of every record; 1 (Ethernet) by default. */
  linkType?: number;
  /** Longest captured part of a packet; longer packets are cut. 262144 by default. */
  snapLen?: number;
  /** Timestamp fractions in nanoseconds instead of microseconds. */
  nanosecond?: boolean;
}

/** The options with their defaults filled in. */
export interface PcapFormat {
  readonly linkType: number;
  readonly snapLen: number;
  readonly nanosecond: boolean;
}

export interface PcapWriter extends PcapFormat {
  /** Records added so far. */
  readonly packetCount: number;
  /**
   * Appends one record. `tsSec` is seconds since the Unix epoch, `tsFrac` the
   * fraction in microseconds (or nanoseconds for a nanosecond writer).
   * `origLen` is the length on the wire; the packet's own length by default.
   */
  add(packet: Uint8Array, tsSec: number, tsFrac: number, origLen?: number): void;
  /** The whole file so far: the file header and every record. */
  bytes(): Uint8Array;
}

export interface PcapFileWriter extends PcapFormat {
  readonly packetCount: number;
  /** Same arguments as `PcapWriter.add`. */
  write(packet: Uint8Array, tsSec: number, tsFrac: number, origLen?: number): void;
  /** Writes what is buffered and closes the file (a descriptor passed in is left open). */
  close(): void;
}

const U32_MAX = 0xffffffff;
const FLUSH_BYTES = 1 << 16;

function checkU32(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > U32_MAX) {
    throw new RangeError(`pcap: ${what} must be an integer in 0..${U32_MAX}, got ${value}`);
  }
}

/** Fills in defaults and checks that every field fits its 32-bit header slot. */
export function pcapFormat(options: PcapWriterOptions = {}): PcapFormat {
  const format: PcapFormat = {
    linkType: options.linkType ?? LINKTYPE_ETHERNET,
    snapLen: options.snapLen ?? DEFAULT_SNAPLEN,
    nanosecond: options.nanosecond ?? false,
  };
  checkU32(format.linkType, 'link type');
  checkU32(format.snapLen, 'snapshot length');
  if (format.snapLen === 0) throw new RangeError('pcap: snapshot length must be at least 1');
  return format;
}

/** The 24-byte file header. */
export function encodeFileHeader(format: PcapFormat): Uint8Array {
  const out = new Uint8Array(PCAP_FILE_HEADER_BYTES);
  const view = new DataView(out.buffer);
  view.setUint32(0, format.nanosecond ? PCAP_MAGIC_NANOSECONDS : PCAP_MAGIC_MICROSECONDS, true);
  view.setUint16(4, PCAP_VERSION_MAJOR, true);
  view.setUint16(6, PCAP_VERSION_MINOR, true);
  view.setInt32(8, 0, true); // thiszone: timestamps are UTC
  view.setUint32(12, 0, true); // sigfigs: always 0
  view.setUint32(16, format.snapLen, true);
  view.setUint32(20, format.linkType, true);
  return out;
}

/** One record: its 16-byte header followed by the captured bytes. */
export function encodeRecord(
  format: PcapFormat,
  packet: Uint8Array,
  tsSec: number,
  tsFrac: number,
  origLen: number = packet.length,
): Uint8Array {
  checkU32(tsSec, 'timestamp seconds');
  const fracLimit = format.nanosecond ? 1_000_000_000 : 1_000_000;
  if (!Number.isInteger(tsFrac) || tsFrac < 0 || tsFrac >= fracLimit) {
    const unit = format.nanosecond ? 'nanoseconds' : 'microseconds';
    throw new RangeError(`pcap: timestamp fraction must be an integer number of ${unit} below ${fracLimit}, got ${tsFrac}`);
  }
  checkU32(origLen, 'original length');
  const inclLen = Math.min(packet.length, format.snapLen);
  if (origLen < inclLen) {
    throw new RangeError(`pcap: original length ${origLen} is shorter than the ${inclLen} captured bytes`);
  }
  const out = new Uint8Array(PCAP_RECORD_HEADER_BYTES + inclLen);
  const view = new DataView(out.buffer);
  view.setUint32(0, tsSec, true);
  view.setUint32(4, tsFrac, true);
  view.setUint32(8, inclLen, true);
  view.setUint32(12, origLen, true);
  out.set(packet.subarray(0, inclLen), PCAP_RECORD_HEADER_BYTES);
  return out;
}

/** A capture file built in memory. */
export function createPcapWriter(options: PcapWriterOptions = {}): PcapWriter {
  const format = pcapFormat(options);
  const parts: Uint8Array[] = [encodeFileHeader(format)];
  let total = PCAP_FILE_HEADER_BYTES;
  let count = 0;
  let cached: Uint8Array | undefined;
  return {
    ...format,
    get packetCount() {
      return count;
    },
    add(packet, tsSec, tsFrac, origLen) {
      const record = encodeRecord(format, packet, tsSec, tsFrac, origLen);
      parts.push(record);
      total += record.length;
      count++;
      cached = undefined;
    },
    bytes() {
      cached ??= concatBytes(...parts);
      return cached;
    },
  };
}

/**
 * A capture file written as records arrive: `target` is a path (created or
 * truncated) or a file descriptor open for writing. Records are buffered and
 * written in blocks of about 64 KiB; `close()` writes the rest.
 */
export function openPcapFile(target: string | number, options: PcapWriterOptions = {}): PcapFileWriter {
  const format = pcapFormat(options);
  const ownsFd = typeof target === 'string';
  const fd = typeof target === 'string' ? openSync(target, 'w') : target;
  let pending: Uint8Array[] = [encodeFileHeader(format)];
  let pendingBytes = PCAP_FILE_HEADER_BYTES;
  let count = 0;
  let closed = false;

  const flush = (): void => {
    if (pendingBytes === 0) return;
    const block = concatBytes(...pending);
    let at = 0;
    while (at < block.length) at += writeSync(fd, block, at, block.length - at);
    pending = [];
    pendingBytes = 0;
  };

  return {
    ...format,
    get packetCount() {
      return count;
    },
    write(packet, tsSec, tsFrac, origLen) {
      if (closed) throw new Error('pcap: write after close');
      const record = encodeRecord(format, packet, tsSec, tsFrac, origLen);
      pending.push(record);
      pendingBytes += record.length;
      count++;
      if (pendingBytes >= FLUSH_BYTES) flush();
    },
    close() {
      if (closed) return;
      closed = true;
      try {
        flush();
      } finally {
        if (ownsFd) closeSync(fd);
      }
    },
  };
}
