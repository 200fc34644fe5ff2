/**
 * The Ethernet and IP numbers a received frame is read by — where the RSS walk finds its
 * flow (flow-key.ts) and what a frame costs on the link (nic-sim/timing/wire.ts): IEEE
 * 802.3 framing, the 802.1Q and 802.1ad tag types, the EtherTypes and IP protocol numbers
 * IANA assigns. Plain constants only, so that the packet path's AssemblyScript
 * (nic-sim/replay/assembly/packet-path.ts) imports the same ones.
 */
export const ETH_HLEN = 14;
export const VLAN_HLEN = 4;
export const ETH_P_8021Q = 0x8100;
export const ETH_P_8021AD = 0x88a8;
/** Tags a NIC's parser skips before the EtherType that decides. */
export const MAX_VLAN_TAGS = 2;
export const ETH_P_IP = 0x0800;
export const ETH_P_IPV6 = 0x86dd;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
/** A frame's check sequence (not in a capture), the least frame on the wire, and the preamble with the inter-frame gap. */
export const FCS_BYTES = 4;
export const MIN_FRAME = 64;
export const PREAMBLE_AND_GAP = 20;
