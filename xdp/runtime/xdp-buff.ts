/**
 * The XDP packet buffer and context as the kernel builds them for a test run
 * (net/bpf/test_run.c, include/net/xdp.h): XDP_PACKET_HEADROOM (256) bytes
 * before the packet, a 4096-byte frame whose last SKB_DATA_ALIGN(sizeof(struct
 * skb_shared_info)) bytes (320 on x86-64) are tailroom, a struct xdp_frame
 * (40 bytes) reserved at the start of the headroom, and data_meta starting at
 * data. bpf_xdp_adjust_head/tail/meta move the window with the kernel's limits
 * and return codes (net/core/filter.c).
 */
import { Errno } from '../maps/bpf-map.js';
import { MemoryFault, RegionKind, type Memory, type Region } from './memory.js';
import type { Vm } from './vm.js';

export const XDP_PACKET_HEADROOM = 256;
export const XDP_FRAME_SIZE = 4096;
export const XDP_TAILROOM = 320;
export const XDP_FRAME_STRUCT = 40;
export const ETH_HLEN = 14;
/** Largest packet a single-buffer XDP frame holds. */
export const XDP_MAX_DATA = XDP_FRAME_SIZE - XDP_PACKET_HEADROOM - XDP_TAILROOM;
/**
 * Longest metadata area: xdp_metalen_invalid() takes up to 255 bytes in a multiple of 4 (older
 * kernels allowed 32); the headroom left after struct xdp_frame (216 bytes) is the tighter bound.
 * Checked against the running kernel by test/runtime/helper-programs.test.ts.
 */
const META_MAX = 255;

/** struct xdp_md field offsets. */
export const XdpMd = { DATA: 0, DATA_END: 4, DATA_META: 8, INGRESS_IFINDEX: 12, RX_QUEUE_INDEX: 16, EGRESS_IFINDEX: 20, SIZE: 24 } as const;

export interface XdpBuff {
  /** The frame; its window [lo, hi) is [data_meta, data_end). */
  readonly packet: Region;
  readonly ctx: Region;
  /** Offset of data in the frame. */
  data: number;
  /** The widest window the frame had since it was last cleared: only there can a program have written. */
  dirtyLo: number;
  dirtyHi: number;
  ingressIfindex: number;
  rxQueueIndex: number;
  egressIfindex: number;
}

export function createXdpBuff(memory: Memory): XdpBuff {
  const packet = memory.add(RegionKind.PACKET, new Uint8Array(XDP_FRAME_SIZE), { lo: XDP_PACKET_HEADROOM, hi: XDP_PACKET_HEADROOM });
  const ctx = memory.add(RegionKind.CTX, new Uint8Array(XdpMd.SIZE), { writable: false });
  return { packet, ctx, data: XDP_PACKET_HEADROOM, dirtyLo: XDP_PACKET_HEADROOM, dirtyHi: XDP_PACKET_HEADROOM, ingressIfindex: 0, rxQueueIndex: 0, egressIfindex: 0 };
}

/**
 * Put a packet into the frame for the next run (data_meta = data, as in a test run). The frame
 * around it reads as zeros, as the kernel's freshly allocated one does: only the part the last
 * program could reach is cleared.
 */
export function loadPacket(xdp: XdpBuff, bytes: Uint8Array, ingressIfindex = 1, rxQueueIndex = 0): void {
  if (bytes.length > XDP_MAX_DATA) throw new RangeError(`packet of ${bytes.length} bytes exceeds the ${XDP_MAX_DATA}-byte XDP frame`);
  const p = xdp.packet;
  const end = XDP_PACKET_HEADROOM + bytes.length;
  if (xdp.dirtyLo < XDP_PACKET_HEADROOM) p.bytes.fill(0, xdp.dirtyLo, XDP_PACKET_HEADROOM);
  if (xdp.dirtyHi > end) p.bytes.fill(0, end, xdp.dirtyHi);
  p.bytes.set(bytes, XDP_PACKET_HEADROOM);
  xdp.dirtyLo = XDP_PACKET_HEADROOM;
  xdp.dirtyHi = end;
  p.lo = XDP_PACKET_HEADROOM;
  p.hi = XDP_PACKET_HEADROOM + bytes.length;
  xdp.data = XDP_PACKET_HEADROOM;
  xdp.ingressIfindex = ingressIfindex;
  xdp.rxQueueIndex = rxQueueIndex;
  xdp.egressIfindex = 0;
}

/** The packet as the program left it (data..data_end): a view, valid until the next packet is loaded. */
export const packetData = (xdp: XdpBuff): Uint8Array => xdp.packet.bytes.subarray(xdp.data, xdp.packet.hi);

function widen(xdp: XdpBuff): void {
  const p = xdp.packet;
  if (p.lo < xdp.dirtyLo) xdp.dirtyLo = p.lo;
  if (p.hi > xdp.dirtyHi) xdp.dirtyHi = p.hi;
}

/** A load from the context: pointer fields become packet pointers, the rest are u32 values. */
export function readCtxField(vm: Vm, at: number, size: number, out: Int32Array): void {
  const xdp = vm.xdp;
  if (!xdp) throw new MemoryFault('context access outside an XDP run');
  if (size !== 4 || at % 4 !== 0) throw new MemoryFault(`invalid xdp_md access: off=${at} size=${size} (fields are read whole, 4 bytes)`);
  const p = xdp.packet;
  out[1] = 0;
  switch (at) {
    case XdpMd.DATA: out[0] = xdp.data; out[1] = p.id; return;
    case XdpMd.DATA_END: out[0] = p.hi; out[1] = p.id; return;
    case XdpMd.DATA_META: out[0] = p.lo; out[1] = p.id; return;
    case XdpMd.INGRESS_IFINDEX: out[0] = xdp.ingressIfindex; return;
    case XdpMd.RX_QUEUE_INDEX: out[0] = xdp.rxQueueIndex; return;
    default: out[0] = xdp.egressIfindex;
  }
}

const metaLen = (xdp: XdpBuff): number => xdp.data - xdp.packet.lo;

/** bpf_xdp_adjust_head: move data by `delta` (negative grows the packet at the front). */
export function adjustHead(xdp: XdpBuff, delta: number): number {
  const p = xdp.packet;
  const meta = metaLen(xdp);
  const data = xdp.data + delta;
  if (data < XDP_FRAME_STRUCT + meta || data > p.hi - ETH_HLEN) return -Errno.EINVAL;
  if (meta > 0) p.bytes.copyWithin(p.lo + delta, p.lo, xdp.data);
  p.lo += delta;
  xdp.data = data;
  widen(xdp);
  return 0;
}

/** bpf_xdp_adjust_tail: move data_end by `delta`; grown bytes are zeroed. */
export function adjustTail(xdp: XdpBuff, delta: number): number {
  const p = xdp.packet;
  const end = p.hi + delta;
  if (end > XDP_FRAME_SIZE - XDP_TAILROOM || end < xdp.data + ETH_HLEN) return -Errno.EINVAL;
  if (delta > 0) p.bytes.fill(0, p.hi, end);
  p.hi = end;
  widen(xdp);
  return 0;
}

/** bpf_xdp_adjust_meta: move data_meta by `delta` (negative grows the metadata area). */
export function adjustMeta(xdp: XdpBuff, delta: number): number {
  const p = xdp.packet;
  const meta = p.lo + delta;
  const len = xdp.data - meta;
  if (meta < XDP_FRAME_STRUCT || meta > xdp.data) return -Errno.EINVAL;
  if (len > META_MAX || len % 4 !== 0) return -13; // -EACCES
  p.lo = meta;
  widen(xdp);
  return 0;
}
