/**
 * A frame's cost on an Ethernet link (IEEE 802.3): the captured frame lacks its 4-byte
 * FCS; on the wire it is padded to the 64-byte minimum and preceded by the 8-byte
 * preamble and followed by the 12-byte inter-frame gap. A 60-byte captured frame takes
 * 84 bytes of link time: 14.88 Mpps at 10 Gb/s.
 *
 * And what the receiving MAC takes: a frame whose packet — what follows the 14-byte
 * Ethernet header and up to two VLAN tags (802.1Q, 802.1ad), 4 bytes each — is longer
 * than the interface's MTU is dropped before anything runs on it, as Linux NICs size
 * their receive buffers to MTU + ETH_HLEN + VLAN_HLEN and count the rest as length
 * errors.
 */
import { ETH_HLEN, FCS_BYTES, MIN_FRAME, PREAMBLE_AND_GAP } from '../rss/ethernet.js';
import { ethHeaderLength } from '../rss/flow-key.js';

export { ETH_HLEN, FCS_BYTES, MIN_FRAME, PREAMBLE_AND_GAP } from '../rss/ethernet.js';

/** Bits of link time a frame of `len` captured bytes (no FCS) takes. */
export const wireBits = (len: number): number => 8 * (Math.max(len + FCS_BYTES, MIN_FRAME) + PREAMBLE_AND_GAP);

/** The captured length of a minimum-size (64-byte) frame. */
export const MIN_FRAME_CAPTURED = MIN_FRAME - FCS_BYTES;

/** The MTU Linux gives an Ethernet interface (ETH_DATA_LEN), and the least it allows (ETH_MIN_MTU). */
export const DEFAULT_MTU = 1500;
export const MIN_MTU = 68;

/** Whether a frame `wireLen` bytes long on the wire (no FCS), `frame` its captured bytes, carries a packet longer than `mtu`. */
export function overMtu(frame: Uint8Array, wireLen: number, mtu: number): boolean {
  return wireLen - ETH_HLEN > mtu && wireLen - ethHeaderLength(frame) > mtu;
}
