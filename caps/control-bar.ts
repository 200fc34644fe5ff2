/**
 * The BPF fields of the simulated card's control BAR, laid out as the NFP's
 * BPF section of the vNIC control BAR (drivers/net/ethernet/netronome/nfp/
 * nfp_net_ctrl.h, NFP_NET_CFG_BPF_*: offsets 0x80-0x97 there, 0x00-0x17 here).
 * The units are the driver's (nfp/bpf/offload.c, main.c): program length in
 * 64-bit card instructions, stack in 64-byte chunks, the packet split boundary
 * in 64-byte chunks of which the usable bytes are value * 64 - 32.
 * Little-endian, as the driver's nn_readb/nn_readw read it. See docs/caps-tlv.md.
 */
import { CapsError } from './caps-error.js';

/** Size of the BPF section of the BAR (NFP_NET_CFG_BPF_ABI 0x80 up to the end of NFP_NET_CFG_BPF_ADDR 0x97). */
export const BAR_SIZE = 0x18;

/** Where the NFP has the section in the full control BAR. */
export const NFP_BAR_BPF_BASE = 0x80;

/** Field offsets inside `CardArea.bar`, with their width in bytes. */
export const BAR_FIELDS = {
  /** NFP_NET_CFG_BPF_ABI: u8 BPF ABI version; must equal the capability area's for the driver to offload. */
  ABI: { offset: 0x00, bytes: 1 },
  /** NFP_NET_CFG_BPF_CAP: u8, bit 0 NFP_NET_BPF_CAP_RELO (live reload). Written 0, not read. */
  CAP: { offset: 0x01, bytes: 1 },
  /** NFP_NET_CFG_BPF_MAX_LEN: le16 program length limit in 64-bit card instructions. */
  MAX_LEN: { offset: 0x02, bytes: 2 },
  /** NFP_NET_CFG_BPF_START: le16 load address of the program (loader state). Written 0, not read. */
  START: { offset: 0x04, bytes: 2 },
  /** NFP_NET_CFG_BPF_DONE: le16 jump target on exit (loader state). Written 0, not read. */
  DONE: { offset: 0x06, bytes: 2 },
  /** NFP_NET_CFG_BPF_STACK_SZ: u8 stack size in 64-byte chunks. */
  STACK_SZ: { offset: 0x08, bytes: 1 },
  /** NFP_NET_CFG_BPF_INL_MTU: u8 packet split offset in 64-byte chunks (usable bytes value * 64 - 32). */
  INL_MTU: { offset: 0x09, bytes: 1 },
  /** NFP_NET_CFG_BPF_SIZE: le16 size of the loaded program in instructions (loader state). Written 0, not read. */
  SIZE: { offset: 0x0e, bytes: 2 },
  /** NFP_NET_CFG_BPF_ADDR: le64 DMA address of the program (loader state). Written 0, not read. */
  ADDR: { offset: 0x10, bytes: 8 },
} as const;

export type BarFieldName = keyof typeof BAR_FIELDS;

/** The fields the toolchain reads back. */
export interface BarFields {
  readonly abi: number;
  readonly maxLen: number;
  readonly stackUnits: number;
  readonly inlMtuUnits: number;
}

const U8_MAX = 0xff;
const U16_MAX = 0xffff;
/** Bytes per STACK_SZ / INL_MTU unit. */
export const BAR_CHUNK = 64;
/** What INL_MTU loses to the firmware's packet prepend: usable = units * 64 - 32. */
export const INL_MTU_SLACK = 32;

/** MAX_LEN for a profile's limit: the limit, saturated at the field's le16 maximum. */
export function maxLenFor(maxInsns: number): number {
  return Math.min(maxInsns, U16_MAX);
}

/** STACK_SZ for a stack of `bytes`: whole 64-byte chunks, saturated at the u8 maximum. */
export function stackUnitsFor(bytes: number): number {
  return Math.min(Math.floor(bytes / BAR_CHUNK), U8_MAX);
}

/** INL_MTU for a split boundary of `bytes`: the most chunks whose usable size (n * 64 - 32) is at most `bytes`. */
export function inlMtuUnitsFor(bytes: number): number {
  return Math.min(Math.floor((bytes + INL_MTU_SLACK) / BAR_CHUNK), U8_MAX);
}

/** Stack bytes the driver derives from STACK_SZ. */
export function stackBytesOf(units: number): number {
  return units * BAR_CHUNK;
}

/** Usable packet bytes the driver derives from INL_MTU (negative for 0, which the driver's unsigned arithmetic wraps). */
export function inlineMtuOf(units: number): number {
  return units * BAR_CHUNK - INL_MTU_SLACK;
}

/** The BAR bytes for the given fields (loader-state fields zero). Values must already fit their fields. */
export function encodeBar(f: BarFields): Uint8Array {
  const bar = new Uint8Array(BAR_SIZE);
  const v = new DataView(bar.buffer);
  v.setUint8(BAR_FIELDS.ABI.offset, f.abi);
  v.setUint16(BAR_FIELDS.MAX_LEN.offset, f.maxLen, true);
  v.setUint8(BAR_FIELDS.STACK_SZ.offset, f.stackUnits);
  v.setUint8(BAR_FIELDS.INL_MTU.offset, f.inlMtuUnits);
  return bar;
}

/** Reads the fields; a BAR of another size is refused. */
export function decodeBar(bar: Uint8Array, source: string): BarFields {
  if (bar.length !== BAR_SIZE) {
    throw new CapsError(`control BAR is ${bar.length} bytes, expected ${BAR_SIZE}`, { file: source });
  }
  const v = new DataView(bar.buffer, bar.byteOffset, bar.byteLength);
  return {
    abi: v.getUint8(BAR_FIELDS.ABI.offset),
    maxLen: v.getUint16(BAR_FIELDS.MAX_LEN.offset, true),
    stackUnits: v.getUint8(BAR_FIELDS.STACK_SZ.offset),
    inlMtuUnits: v.getUint8(BAR_FIELDS.INL_MTU.offset),
  };
}

/** `control BAR offset 0x08 (STACK_SZ, NFP 0x88)`: how messages name a field. */
export function barFieldText(name: BarFieldName): string {
  const off = BAR_FIELDS[name].offset;
  const hex = (n: number) => `0x${n.toString(16).padStart(2, '0')}`;
  return `control BAR offset ${hex(off)} (${name}, NFP ${hex(NFP_BAR_BPF_BASE + off)})`;
}
