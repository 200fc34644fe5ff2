/** Generated traffic for the simulator's benchmarks: UDP/IPv4 frames over many flows, and captures of them. */
import { openPcapFile, LINKTYPE_ETHERNET } from '../../xdp/pcap/pcap-writer.js';

/** A UDP/IPv4 frame of `len` bytes from flow `k` (addresses and ports vary, so RSS spreads them). */
export function udpFrame(k: number, len: number): Uint8Array {
  const p = new Uint8Array(len);
  p.set([0, 1, 2, 3, 4, 5, 0, 6, 7, 8, 9, 10, 0x08, 0x00]);
  const ip = 14;
  p.set([0x45, 0, ((len - 14) >> 8) & 0xff, (len - 14) & 0xff, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, (k >> 16) & 0xff, (k >> 8) & 0xff, k & 0xff, 192, 168, 0, 1], ip);
  const udp = ip + 20;
  p.set([(k >> 8) & 0xff, k & 0xff, 0x11, 0x5c, ((len - 34) >> 8) & 0xff, (len - 34) & 0xff, 0, 0], udp);
  return p;
}

export function writeUdpCapture(path: string, bytes: number, len: number): number {
  const w = openPcapFile(path, { linkType: LINKTYPE_ETHERNET, nanosecond: true });
  let n = 0;
  for (let written = 24; written < bytes; written += len + 16) w.write(udpFrame(n % 65536, len), 1_700_000_000 + Math.floor(n / 1e6), (n++ % 1e6) * 1000);
  w.close();
  return n;
}

