/**
 * Test-only: the packets of a classic libpcap file (pcap-savefile(5): a 24-byte
 * global header, then per packet a 16-byte record header — ts_sec, ts_frac,
 * incl_len, orig_len — and incl_len bytes). Little- and big-endian files,
 * micro- and nanosecond magics. Kept apart from the project's reader on
 * purpose: the tests should not trust the code they are checking.
 */
import { readFileSync } from 'node:fs';

export function pcapPackets(path: string): Uint8Array[] {
  const bytes = readFileSync(path);
  const magicLe = bytes.readUInt32LE(0);
  const le = magicLe === 0xa1b2c3d4 || magicLe === 0xa1b23c4d;
  const be = !le && (bytes.readUInt32BE(0) === 0xa1b2c3d4 || bytes.readUInt32BE(0) === 0xa1b23c4d);
  if (!le && !be) throw new Error(`${path}: not a pcap file`);
  const u32 = (at: number): number => (le ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at));
  const out: Uint8Array[] = [];
  for (let at = 24; at + 16 <= bytes.length;) {
    const incl = u32(at + 8);
    at += 16;
    if (at + incl > bytes.length) throw new Error(`${path}: packet record at ${at - 16} runs past the end`);
    out.push(new Uint8Array(bytes.subarray(at, at + incl)));
    at += incl;
  }
  return out;
}
