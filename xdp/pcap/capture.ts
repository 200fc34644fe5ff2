/**
 * The one entry point for reading a capture: `openCapture(path)` looks at the
 * file's first four bytes, opens it with the classic pcap reader (any of the
 * four pcap magics) or the pcapng reader (a section header block), and refuses
 * anything else with a CaptureError naming the file and the bytes it found.
 *
 * What comes back is a CaptureReader: iterate it with `for await` (or, faster,
 * synchronously, or by `batches()`), and read `stats` for the accounting the
 * replay checks — records yielded (`read`) plus records skipped (`skipped`, by
 * reason) is every record the file holds, as far as its framing can tell; a
 * defect that loses the framing stops reading with a CaptureError (also kept in
 * `stats.errors`). docs/pcap.md has the rules.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { CaptureError, hexBytes, type CaptureReadOptions } from './capture-record.js';
import { BLOCK_SHB, PcapngReader } from './pcapng-reader.js';
import { PcapReader, pcapMagic } from './pcap-reader.js';

export type CaptureFormat = 'pcap' | 'pcapng';

/** An open capture of either format. */
export type Capture = PcapReader | PcapngReader;

/** Which format the leading bytes of a file announce, if any. */
export function sniffFormat(lead: Uint8Array): CaptureFormat | undefined {
  if (lead.length < 4) return undefined;
  const magic = new DataView(lead.buffer, lead.byteOffset, 4).getUint32(0, true);
  if (pcapMagic(magic) !== undefined) return 'pcap';
  if (magic === BLOCK_SHB) return 'pcapng';
  return undefined;
}

function readLead(path: string, name: string): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new CaptureError(`cannot open: ${(e as Error).message}`, { file: name });
  }
  try {
    const lead = new Uint8Array(4);
    const n = readSync(fd, lead, 0, 4, 0);
    return lead.subarray(0, n);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CaptureError(code === 'EISDIR' ? 'is a directory, not a capture file' : `cannot read: ${code ?? (e as Error).message}`, { file: name });
  } finally {
    closeSync(fd);
  }
}

/**
 * Opens a pcap or pcapng capture. Throws CaptureError when the file cannot be
 * opened, is neither format, or its header is malformed.
 */
export function openCapture(path: string, options: CaptureReadOptions = {}): Capture {
  const name = options.name ?? path;
  const lead = readLead(path, name);
  switch (sniffFormat(lead)) {
    case 'pcap':
      return PcapReader.open(path, options);
    case 'pcapng':
      return PcapngReader.open(path, options);
    default:
      throw new CaptureError(
        lead.length < 4
          ? `not a capture file: ${lead.length} byte${lead.length === 1 ? '' : 's'} long (${hexBytes(lead)})`
          : `not a pcap or pcapng file: magic ${hexBytes(lead)}`,
        { file: name, offset: 0 },
      );
  }
}

/**
 * The link type every record of a classic pcap file has (its header's), or undefined
 * for pcapng, where each interface has its own. Opening errors are the reader's.
 */
export function fileLinkType(path: string): number | undefined {
  const c = openCapture(path);
  try {
    return c instanceof PcapReader ? c.linkType : undefined;
  } finally {
    c.close();
  }
}

export { CaptureError, describeCut, type CaptureReadOptions } from './capture-record.js';
export type { CaptureRecord, CaptureStats, CutRecord, SkipReason } from './capture-record.js';
