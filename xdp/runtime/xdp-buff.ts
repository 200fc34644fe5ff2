/**
 * The XDP packet buffer and context as the kernel builds them for a test run
 * (net/bpf/test_run.c, include/net/xdp.h): XDP_PACKET_HEADROOM (256) bytes
 * before the packet, a 4096-byte frame whose last SKB_DATA_ALIGN(sizeof(struct
 * skb_shared_info)) bytes (320 on x86-64) are tailroom, a struct xdp_frame
 * (40 bytes) reserved at the start of the headroom, and data_meta starting at
 * data. bpf_xdp_adjust_head/tail/meta move the window with the kernel's limits
 * and return codes (net/core/filter.c).
 *
 * A packet longer than the linear part holds is a multi-buffer frame, built as
 * bpf_prog_test_run_xdp builds one: the first XDP_MAX_DATA bytes in the frame,
 * the rest in page-sized fragments (at most MAX_SKB_FRAGS), whatever the
 * program's xdp.frags flag says. The program sees only the linear part through
 * data/data_end; bpf_xdp_get_buff_len, bpf_xdp_load_bytes/store_bytes
 * (bpf_xdp_pointer, bpf_xdp_copy_buf) and bpf_xdp_adjust_tail
 * (bpf_xdp_frags_increase_tail / _shrink_tail) reach the fragments.
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
/** A fragment is one page; a test run's fragments start at its beginning (skb_frag_off 0), so a page's worth fits. */
export const XDP_FRAG_SIZE = 4096;
/** MAX_SKB_FRAGS (CONFIG_MAX_SKB_FRAGS, 17 by default; /proc/sys/net/core/max_skb_frags shows it). */
export const MAX_SKB_FRAGS = 17;
/** Longest packet BPF_PROG_TEST_RUN takes (beyond it the kernel runs out of fragments: ENOMEM). */
export const XDP_MAX_PACKET = XDP_MAX_DATA + MAX_SKB_FRAGS * XDP_FRAG_SIZE;
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
  /** The fragments' pages (allocated as first needed), the first `nrFrags` in use, each `fragLen[i]` bytes long. */
  readonly frags: Uint8Array[];
  readonly fragLen: number[];
  nrFrags: number;
  /** sinfo->xdp_frags_size: the bytes in fragments. */
  fragsSize: number;
  /** Where a multi-buffer packet is gathered for the caller (see packetData). */
  gathered: Uint8Array | undefined;
}

export function createXdpBuff(memory: Memory): XdpBuff {
  const packet = memory.add(RegionKind.PACKET, new Uint8Array(XDP_FRAME_SIZE), { lo: XDP_PACKET_HEADROOM, hi: XDP_PACKET_HEADROOM });
  const ctx = memory.add(RegionKind.CTX, new Uint8Array(XdpMd.SIZE), { writable: false });
  return {
    packet, ctx, data: XDP_PACKET_HEADROOM, dirtyLo: XDP_PACKET_HEADROOM, dirtyHi: XDP_PACKET_HEADROOM, ingressIfindex: 0, rxQueueIndex: 0, egressIfindex: 0,
    frags: [], fragLen: [], nrFrags: 0, fragsSize: 0, gathered: undefined,
  };
}

/**
 * Put a packet into the frame for the next run (data_meta = data, as in a test run). The frame
 * around it reads as zeros, as the kernel's freshly allocated one does: only the part the last
 * program could reach is cleared.
 */
export function loadPacket(xdp: XdpBuff, whole: Uint8Array, ingressIfindex = 1, rxQueueIndex = 0): void {
  let bytes = whole;
  if (whole.length > XDP_MAX_DATA) {
    if (whole.length > XDP_MAX_PACKET) throw new RangeError(packetTooLong(whole.length));
    bytes = whole.subarray(0, XDP_MAX_DATA);
    loadFrags(xdp, whole.subarray(XDP_MAX_DATA));
  } else if (xdp.nrFrags !== 0) {
    xdp.nrFrags = 0;
    xdp.fragsSize = 0;
  }
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

export const packetTooLong = (n: number): string =>
  `packet of ${n} bytes is longer than an XDP test run takes (${XDP_MAX_PACKET}: ${XDP_MAX_DATA} in the frame + ${MAX_SKB_FRAGS} fragments of ${XDP_FRAG_SIZE})`;

/** The tail beyond the linear part, cut into pages as the test run does. */
function loadFrags(xdp: XdpBuff, tail: Uint8Array): void {
  let n = 0;
  for (let at = 0; at < tail.length; at += XDP_FRAG_SIZE, n++) {
    const len = Math.min(XDP_FRAG_SIZE, tail.length - at);
    const page = (xdp.frags[n] ??= new Uint8Array(XDP_FRAG_SIZE));
    page.set(tail.subarray(at, at + len));
    xdp.fragLen[n] = len;
  }
  xdp.nrFrags = n;
  xdp.fragsSize = tail.length;
}

/** xdp_get_buff_len: the linear part (data..data_end) and the fragments. */
export const buffLength = (xdp: XdpBuff): number => xdp.packet.hi - xdp.data + xdp.fragsSize;

/**
 * The packet as the program left it (data..data_end, then the fragments): a view, valid until the
 * next packet is loaded; a multi-buffer packet is gathered into one buffer first.
 */
export function packetData(xdp: XdpBuff): Uint8Array {
  const linear = xdp.packet.bytes.subarray(xdp.data, xdp.packet.hi);
  if (xdp.nrFrags === 0) return linear;
  const out = (xdp.gathered ??= new Uint8Array(XDP_FRAME_SIZE + MAX_SKB_FRAGS * XDP_FRAG_SIZE));
  out.set(linear);
  let at = linear.length;
  for (let i = 0; i < xdp.nrFrags; i++) {
    out.set(xdp.frags[i]!.subarray(0, xdp.fragLen[i]), at);
    at += xdp.fragLen[i]!;
  }
  return out.subarray(0, at);
}

/**
 * bpf_xdp_copy_buf: `len` bytes at `off` from data, across the linear part and the fragments, copied
 * to `buf` at `at` (or, `store`, from it). The caller has checked off + len against buffLength.
 */
export function copyPacket(xdp: XdpBuff, off: number, buf: Uint8Array, at: number, len: number, store: boolean): void {
  const p = xdp.packet;
  let bytes = p.bytes;
  let start = xdp.data;
  let size = p.hi - xdp.data;
  for (let i = 0; ; ) {
    if (off < size) {
      const n = Math.min(len, size - off);
      copyBytes(store ? buf : bytes, store ? at : start + off, store ? bytes : buf, store ? start + off : at, n);
      at += n;
      len -= n;
      off = 0;
    } else {
      off -= size;
    }
    if (len === 0 || i === xdp.nrFrags) return;
    bytes = xdp.frags[i]!;
    start = 0;
    size = xdp.fragLen[i]!;
    i++;
  }
}

/** memmove of `n` bytes: a loop for the short copies helpers make (no subarray to allocate), `set` beyond. */
function copyBytes(from: Uint8Array, fromAt: number, to: Uint8Array, toAt: number, n: number): void {
  if (n > 64 || from.buffer === to.buffer) {
    to.set(from.subarray(fromAt, fromAt + n), toAt);
    return;
  }
  for (let k = 0; k < n; k++) to[toAt + k] = from[fromAt + k]!;
}

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

/**
 * bpf_xdp_adjust_tail: move data_end by `delta`; grown bytes are zeroed. A multi-buffer frame grows
 * its last fragment (to the end of its page) and shrinks from the last fragment back, freeing the
 * fragments it empties; once none is left the rest comes off the linear part.
 */
export function adjustTail(xdp: XdpBuff, delta: number): number {
  if (xdp.nrFrags > 0) return delta < 0 ? shrinkFrags(xdp, -delta) : growLastFrag(xdp, delta);
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

function growLastFrag(xdp: XdpBuff, delta: number): number {
  const last = xdp.nrFrags - 1;
  const len = xdp.fragLen[last]!;
  if (delta > XDP_FRAG_SIZE - len) return -Errno.EINVAL;
  xdp.frags[last]!.fill(0, len, len + delta);
  xdp.fragLen[last] = len + delta;
  xdp.fragsSize += delta;
  return 0;
}

function shrinkFrags(xdp: XdpBuff, cut: number): number {
  if (cut > buffLength(xdp) - ETH_HLEN) return -Errno.EINVAL;
  for (let i = xdp.nrFrags - 1; i >= 0 && cut > 0; i--) {
    const len = xdp.fragLen[i]!;
    const n = Math.min(cut, len);
    cut -= n;
    xdp.fragsSize -= n;
    if (n < len) {
      xdp.fragLen[i] = len - n;
      break;
    }
    xdp.nrFrags--;
  }
  if (xdp.nrFrags === 0) {
    xdp.packet.hi -= cut;
    widen(xdp);
  }
  return 0;
}
