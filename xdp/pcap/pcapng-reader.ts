/**
 * A streaming reader for pcapng capture files, as the IETF draft "PCAP Next
 * Generation (pcapng) Capture File Format" (draft-ietf-opsawg-pcapng) defines
 * them: a sequence of blocks, each `type, total length, body, total length`
 * (lengths a multiple of 4, at least 12), grouped in sections that each begin
 * with a Section Header Block whose byte-order magic sets the byte order of the
 * section.
 *
 * Read: Section Header Blocks (either byte order, any number of sections; a new
 * section forgets the interfaces of the last), Interface Description Blocks
 * (link type, snapshot length, and the if_tsresol and if_tsoffset options,
 * including power-of-2 resolutions), and the three packet blocks: Enhanced
 * Packet Block, Simple Packet Block (interface 0, no timestamp), and the
 * obsolete Packet Block. Every other block (name resolution, interface
 * statistics, decryption secrets, custom, unknown) is passed over by its length
 * and counted in `stats.otherBlocks`. Records carry their interface's id and
 * link type; timestamps are converted to seconds and nanoseconds exactly.
 *
 * Hand-written because npm has no maintained pcapng reader, and so it shares
 * the chunked zero-copy I/O of the classic reader (capture-reader.ts).
 *
 * Defects (see docs/pcap.md): a block length below 12, not a multiple of 4,
 * above the block limit, or whose trailing copy differs, stops reading with a
 * CaptureError naming the file and offset (the framing is lost), as do a bad
 * byte-order magic, an unsupported major version and a malformed IDB. A
 * packet block cut short by the end of the file, one longer than its
 * interface's snapshot length, one that captured more than the original
 * length, one on an interface the section never described, one too short for
 * its own fields are passed over and counted in `stats.skipped`.
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

export const BLOCK_SHB = 0x0a0d0d0a;
export const BLOCK_IDB = 0x00000001;
export const BLOCK_PB = 0x00000002;
export const BLOCK_SPB = 0x00000003;
export const BLOCK_NRB = 0x00000004;
export const BLOCK_ISB = 0x00000005;
export const BLOCK_EPB = 0x00000006;
export const BLOCK_DSB = 0x0000000a;
export const BLOCK_CUSTOM = 0x00000bad;
export const BLOCK_CUSTOM_NOCOPY = 0x40000bad;
export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

const OPT_ENDOFOPT = 0;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;

/**
 * Room on top of the longest record for a block's fixed fields and options:
 * blocks longer than `maxRecordBytes + BLOCK_SLACK` are taken as a lost framing.
 */
export const BLOCK_SLACK = 131072;

const TWO32 = 4294967296;
const TWO53 = 9007199254740992;

/** One interface of the current section, as its IDB described it. */
export interface PcapngInterface {
  readonly id: number;
  readonly linkType: number;
  /** Snapshot length as written (0: no limit). */
  readonly snapLen: number;
  /** The if_tsresol byte (6 when absent: microseconds). */
  readonly tsresol: number;
  /** Timestamp units per second that if_tsresol means (exact as a bigint). */
  readonly unitsPerSecond: bigint;
  /** if_tsoffset: seconds added to every timestamp (0 when absent). */
  readonly tsOffset: number;
  /** Byte offset of the IDB in the file. */
  readonly offset: number;
}

/** How to turn an interface's 64-bit timestamps into seconds and nanoseconds. */
interface Clock {
  readonly iface: PcapngInterface;
  /** Units per second as a number (exact when `small`). */
  readonly div: number;
  /** `div` ≤ 2^30: exact 16-bit-limb long division. */
  readonly small: boolean;
  /** Nanoseconds per unit when it is a whole number (div divides 1e9), else 0. */
  readonly nsPerUnit: number;
  /** For div = 2^n, n in 10..30: n - 9 (nsec = rem * 5^9 / 2^(n-9)), else 0. */
  readonly pow2Shift: number;
  readonly effSnap: number;
}

function blockName(type: number): string {
  switch (type) {
    case BLOCK_NRB:
      return 'NRB';
    case BLOCK_ISB:
      return 'ISB';
    case BLOCK_DSB:
      return 'DSB';
    case BLOCK_CUSTOM:
    case BLOCK_CUSTOM_NOCOPY:
      return 'custom';
    default:
      return `type-0x${(type >>> 0).toString(16).padStart(8, '0')}`;
  }
}

const isPacketBlock = (type: number): boolean => type === BLOCK_EPB || type === BLOCK_SPB || type === BLOCK_PB;

/** Units per second an if_tsresol byte means. */
export function tsresolUnits(tsresol: number): bigint {
  const n = BigInt(tsresol & 0x7f);
  return (tsresol & 0x80) !== 0 ? 1n << n : 10n ** n;
}

function makeClock(iface: PcapngInterface, maxRecord: number): Clock {
  const units = iface.unitsPerSecond;
  const div = Number(units);
  const small = units <= 1n << 30n;
  let nsPerUnit = 0;
  let pow2Shift = 0;
  if (small) {
    if (1_000_000_000 % div === 0) nsPerUnit = 1_000_000_000 / div;
    else if ((iface.tsresol & 0x80) !== 0) pow2Shift = (iface.tsresol & 0x7f) - 9;
  }
  const effSnap = iface.snapLen === 0 || iface.snapLen > maxRecord ? maxRecord : iface.snapLen;
  return { iface, div, small, nsPerUnit, pow2Shift, effSnap };
}

class PcapngDecoder implements RecordDecoder {
  private readonly w: ChunkWindow;
  private readonly stats: CaptureStats;
  private readonly maxRecord: number;
  private readonly maxBlock: number;
  private readonly copy: boolean;
  private le = true;
  private clocks: Clock[] = [];
  private index = 0;
  /** Sections seen so far. */
  sections = 0;
  // the last timestamp converted
  private sec = 0;
  private nsec = 0;

  constructor(w: ChunkWindow, stats: CaptureStats, options: CaptureReadOptions) {
    this.w = w;
    this.stats = stats;
    this.maxRecord = options.maxRecordBytes ?? MAX_RECORD_BYTES;
    this.maxBlock = this.maxRecord + BLOCK_SLACK;
    this.copy = options.copy ?? false;
  }

  /** Interfaces of the current section. */
  get interfaces(): readonly PcapngInterface[] {
    return this.clocks.map((c) => c.iface);
  }

  private fail(message: string, offset: number): never {
    const err = new CaptureError(message, { file: this.w.name, offset });
    this.stats.errors.push(err);
    throw err;
  }

  private skip(reason: SkipReason): void {
    this.stats.skipped[reason] = (this.stats.skipped[reason] ?? 0) + 1;
    this.index++;
  }

  private other(kind: string): void {
    this.stats.otherBlocks[kind] = (this.stats.otherBlocks[kind] ?? 0) + 1;
  }

  step(): StepResult {
    const w = this.w;
    for (;;) {
      const pos = w.pos;
      const avail = w.end - pos;
      if (avail < 12) {
        if (!w.eof) return NEED_MORE;
        if (avail === 0) return END;
        // A block header cut short at the end of the file.
        const type = avail >= 4 ? w.view.getUint32(pos, this.le) : -1;
        if (isPacketBlock(type)) this.skip('truncated');
        else this.other('truncated');
        this.stats.cut = { offset: w.offsetOf(pos), have: avail, packet: isPacketBlock(type) };
        w.pos = w.end;
        return END;
      }
      const dv = w.view;
      const offset = w.offsetOf(pos);
      const type = dv.getUint32(pos, this.le);
      if (type === BLOCK_SHB) {
        // The byte-order magic decides how to read this block's length and the section's blocks.
        const bom = dv.getUint32(pos + 8, true);
        if (bom === BYTE_ORDER_MAGIC) this.le = true;
        else if (bom === 0x4d3c2b1a) this.le = false;
        else this.fail(`bad byte-order magic ${hexBytes(w.bytes.subarray(pos + 8, pos + 12))} in section header block`, offset + 8);
      }
      const len = dv.getUint32(pos + 4, this.le);
      if (len < 12 || len % 4 !== 0) {
        this.fail(`block length ${len} (type 0x${type.toString(16)}) is ${len < 12 ? 'below 12' : 'not a multiple of 4'}; the file's framing is lost from here`, offset + 4);
      }
      if (len > this.maxBlock) {
        this.fail(`block length ${len} (type 0x${type.toString(16)}) is more than the ${this.maxBlock}-byte limit; the file's framing is lost from here`, offset + 4);
      }
      if (len > avail) {
        if (!w.eof) return NEED_MORE;
        // The file ends inside this block: its last block, cut short.
        if (isPacketBlock(type)) this.skip('truncated');
        else this.other('truncated');
        this.stats.cut = { offset, have: avail, need: len, packet: isPacketBlock(type) };
        w.pos = w.end;
        return END;
      }
      const trailer = dv.getUint32(pos + len - 4, this.le);
      if (trailer !== len) {
        this.fail(`block length ${len} at its start but ${trailer} at its end (type 0x${type.toString(16)}); the file's framing is lost from here`, offset + len - 4);
      }
      w.pos = pos + len;
      switch (type) {
        case BLOCK_EPB:
        case BLOCK_PB: {
          const r = this.packet(type, pos, len, offset);
          if (r !== undefined) return r;
          break;
        }
        case BLOCK_SPB: {
          const r = this.simplePacket(pos, len, offset);
          if (r !== undefined) return r;
          break;
        }
        case BLOCK_SHB:
          this.sectionHeader(pos, len, offset);
          break;
        case BLOCK_IDB:
          this.interfaceDescription(pos, len, offset);
          break;
        default:
          this.other(blockName(type));
      }
    }
  }

  private sectionHeader(pos: number, len: number, offset: number): void {
    if (len < 28) this.fail(`section header block of ${len} bytes, less than the 28 its fields take`, offset + 4);
    const dv = this.w.view;
    const major = dv.getUint16(pos + 12, this.le);
    const minor = dv.getUint16(pos + 14, this.le);
    if (major !== 1) this.fail(`unsupported pcapng version ${major}.${minor} (only 1.x is read)`, offset + 12);
    this.clocks = [];
    this.sections++;
  }

  private interfaceDescription(pos: number, len: number, offset: number): void {
    if (this.sections === 0) this.fail('interface description block before any section header block', offset);
    if (len < 20) this.fail(`interface description block of ${len} bytes, less than the 20 its fields take`, offset + 4);
    const dv = this.w.view;
    const le = this.le;
    const linkType = dv.getUint16(pos + 8, le);
    const snapLen = dv.getUint32(pos + 12, le);
    let tsresol = 6;
    let tsOffset = 0;
    let at = pos + 16;
    const optEnd = pos + len - 4;
    while (at + 4 <= optEnd) {
      const code = dv.getUint16(at, le);
      const olen = dv.getUint16(at + 2, le);
      if (code === OPT_ENDOFOPT) break;
      if (at + 4 + olen > optEnd) {
        this.fail(`interface description block option ${code} of ${olen} bytes runs past the block's end`, this.w.offsetOf(at));
      }
      if (code === OPT_IF_TSRESOL) {
        if (olen !== 1) this.fail(`if_tsresol option of ${olen} bytes (must be 1)`, this.w.offsetOf(at));
        tsresol = this.w.bytes[at + 4]!;
      } else if (code === OPT_IF_TSOFFSET) {
        if (olen !== 8) this.fail(`if_tsoffset option of ${olen} bytes (must be 8)`, this.w.offsetOf(at));
        tsOffset = Number(dv.getBigInt64(at + 4, le));
      }
      at += 4 + ((olen + 3) & ~3);
    }
    const iface: PcapngInterface = {
      id: this.clocks.length,
      linkType,
      snapLen,
      tsresol,
      unitsPerSecond: tsresolUnits(tsresol),
      tsOffset,
      offset,
    };
    this.clocks.push(makeClock(iface, this.maxRecord));
  }

  /** Converts the 64-bit timestamp (hi, lo) in `clock`'s units into this.sec / this.nsec. */
  private timestamp(clock: Clock, hi: number, lo: number): void {
    let sec: number;
    let rem: number;
    if (hi < 0x200000 && clock.div <= TWO53) {
      // The whole timestamp is an exact double.
      const ts = hi * TWO32 + lo;
      const div = clock.div;
      sec = Math.floor(ts / div);
      rem = ts - sec * div;
      if (rem < 0) {
        sec--;
        rem += div;
      } else if (rem >= div) {
        sec++;
        rem -= div;
      }
    } else if (clock.small) {
      // Long division in 16-bit limbs keeps every intermediate below 2^46.
      const div = clock.div;
      sec = 0;
      rem = 0;
      const limbs = [hi >>> 16, hi & 0xffff, lo >>> 16, lo & 0xffff];
      for (const limb of limbs) {
        const cur = rem * 65536 + limb;
        const q = Math.floor(cur / div);
        rem = cur - q * div;
        sec = sec * 65536 + q;
      }
    } else {
      const ts = (BigInt(hi) << 32n) | BigInt(lo);
      const units = clock.iface.unitsPerSecond;
      this.sec = Number(ts / units) + clock.iface.tsOffset;
      this.nsec = Number(((ts % units) * 1_000_000_000n) / units);
      return;
    }
    this.sec = sec + clock.iface.tsOffset;
    if (clock.nsPerUnit !== 0) this.nsec = rem * clock.nsPerUnit;
    else if (clock.pow2Shift !== 0) this.nsec = Math.floor((rem * 1953125) / 2 ** clock.pow2Shift);
    else this.nsec = Number((BigInt(rem) * 1_000_000_000n) / BigInt(clock.div));
  }

  /** An Enhanced Packet Block or an obsolete Packet Block (same layout but a 16-bit interface id). */
  private packet(type: number, pos: number, len: number, offset: number): CaptureRecord | undefined {
    if (len < 32) {
      this.skip('bad-block');
      return undefined;
    }
    const dv = this.w.view;
    const le = this.le;
    const ifid = type === BLOCK_EPB ? dv.getUint32(pos + 8, le) : dv.getUint16(pos + 8, le);
    const clock = this.clocks[ifid];
    if (clock === undefined) {
      this.skip('unknown-interface');
      return undefined;
    }
    const capLen = dv.getUint32(pos + 20, le);
    const origLen = dv.getUint32(pos + 24, le);
    if (capLen > len - 32) {
      this.skip('bad-block');
      return undefined;
    }
    if (capLen > clock.effSnap) {
      this.skip('over-snaplen');
      return undefined;
    }
    if (capLen > origLen) {
      this.skip('caplen-over-origlen');
      return undefined;
    }
    this.timestamp(clock, dv.getUint32(pos + 12, le), dv.getUint32(pos + 16, le));
    return this.record(offset, pos + 28, capLen, origLen, ifid, clock);
  }

  /** A Simple Packet Block: interface 0, no timestamp, captured length from the snapshot length. */
  private simplePacket(pos: number, len: number, offset: number): CaptureRecord | undefined {
    if (len < 16) {
      this.skip('bad-block');
      return undefined;
    }
    const clock = this.clocks[0];
    if (clock === undefined) {
      this.skip('unknown-interface');
      return undefined;
    }
    const origLen = this.w.view.getUint32(pos + 8, this.le);
    const snap = clock.iface.snapLen;
    const capLen = snap !== 0 && snap < origLen ? snap : origLen;
    if (capLen > len - 16) {
      this.skip('bad-block');
      return undefined;
    }
    if (capLen > clock.effSnap) {
      this.skip('over-snaplen');
      return undefined;
    }
    this.sec = 0;
    this.nsec = 0;
    return this.record(offset, pos + 12, capLen, origLen, 0, clock);
  }

  private record(offset: number, start: number, capLen: number, origLen: number, ifid: number, clock: Clock): CaptureRecord {
    const w = this.w;
    this.stats.read++;
    return {
      index: this.index++,
      offset,
      tsSec: this.sec,
      tsNsec: this.nsec,
      capLen,
      origLen,
      interfaceId: ifid,
      linkType: clock.iface.linkType,
      data: this.copy ? w.bytes.slice(start, start + capLen) : new Uint8Array(w.buffer, start, capLen),
    };
  }
}

/** An open pcapng file (see CaptureReader for how to read its records). */
export class PcapngReader extends CaptureReader {
  readonly format = 'pcapng' as const;
  private readonly ng: PcapngDecoder;

  private constructor(source: OpenSource, decoder: PcapngDecoder, stats: CaptureStats) {
    super(source, decoder, stats);
    this.ng = decoder;
  }

  /** Interfaces of the current section (those described so far). */
  get interfaces(): readonly PcapngInterface[] {
    return this.ng.interfaces;
  }

  /** Sections begun so far. */
  get sections(): number {
    return this.ng.sections;
  }

  /** Opens a pcapng file (throws CaptureError if it does not begin with a section header block). */
  static open(path: string, options: CaptureReadOptions = {}): PcapngReader {
    const maxRecord = options.maxRecordBytes ?? MAX_RECORD_BYTES;
    const source = openSource(path, options, maxRecord + BLOCK_SLACK);
    try {
      const w = source.window;
      if (w.avail < 4 || w.view.getUint32(0, true) !== BLOCK_SHB) {
        throw new CaptureError(`not a pcapng file: it begins ${hexBytes(w.bytes.subarray(0, Math.min(4, w.avail)))}, not a section header block`, {
          file: w.name,
          offset: 0,
        });
      }
      const stats = newStats();
      return new PcapngReader(source, new PcapngDecoder(w, stats, options), stats);
    } catch (e) {
      closeSync(source.fd);
      throw e;
    }
  }
}

/** Opens a pcapng file (throws CaptureError if it is not one). */
export function openPcapng(path: string, options: CaptureReadOptions = {}): PcapngReader {
  return PcapngReader.open(path, options);
}
