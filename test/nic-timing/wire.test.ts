import { describe, expect, it } from 'vitest';
import { DEFAULT_MTU, overMtu, wireBits } from '../../nic-sim/timing/wire.js';

/** A frame of `len` bytes with `tags` VLAN tags (the given TPIDs) before an IPv4 ethertype. */
function frame(len: number, tpids: number[] = []): Uint8Array {
  const f = new Uint8Array(len);
  let at = 12;
  for (const t of tpids) {
    f[at] = t >> 8;
    f[at + 1] = t & 0xff;
    at += 4;
  }
  f[at] = 0x08;
  return f;
}

describe('the wire and the MAC', () => {
  it('a 60-byte frame takes 84 bytes of link time (14.88 Mpps at 10 Gb/s)', () => {
    expect(wireBits(60)).toBe(84 * 8);
    expect(1e10 / wireBits(60) / 1e6).toBeCloseTo(14.88, 2);
  });

  it('the MTU bounds the packet after the Ethernet header and up to two VLAN tags', () => {
    const mtu = DEFAULT_MTU;
    expect(overMtu(frame(14 + mtu), 14 + mtu, mtu)).toBe(false);
    expect(overMtu(frame(15 + mtu), 15 + mtu, mtu)).toBe(true);
    expect(overMtu(frame(18 + mtu, [0x8100]), 18 + mtu, mtu)).toBe(false);
    expect(overMtu(frame(19 + mtu, [0x8100]), 19 + mtu, mtu)).toBe(true);
    expect(overMtu(frame(22 + mtu, [0x88a8, 0x8100]), 22 + mtu, mtu)).toBe(false);
    // A third tag is the packet's own bytes.
    expect(overMtu(frame(26 + mtu, [0x88a8, 0x8100, 0x8100]), 26 + mtu, mtu)).toBe(true);
  });

  it('a capture cut short is judged by the frame\'s length on the wire', () => {
    expect(overMtu(frame(100), 2000, 1500)).toBe(true);
    expect(overMtu(frame(100, [0x8100]), 1518, 1500)).toBe(false);
    expect(overMtu(frame(13), 9000, 1500)).toBe(true);
  });
});
