/**
 * A frame's cost on an Ethernet link (IEEE 802.3): the captured frame lacks its 4-byte
 * FCS; on the wire it is padded to the 64-byte minimum and preceded by the 8-byte
 * preamble and followed by the 12-byte inter-frame gap. A 60-byte captured frame takes
 * 84 bytes of link time: 14.88 Mpps at 10 Gb/s.
 */
export const FCS_BYTES = 4;
export const MIN_FRAME = 64;
export const PREAMBLE_AND_GAP = 20;

/** Bits of link time a frame of `len` captured bytes (no FCS) takes. */
export const wireBits = (len: number): number => 8 * (Math.max(len + FCS_BYTES, MIN_FRAME) + PREAMBLE_AND_GAP);

/** The captured length of a minimum-size (64-byte) frame. */
export const MIN_FRAME_CAPTURED = MIN_FRAME - FCS_BYTES;
