/**
 * The NFP's action codes (what the kernel's nfp_outro_xdp leaves for the firmware,
 * drivers/net/ethernet/netronome/nfp/bpf/jit.c; DESIGN.md "Actions"): the code an
 * image's run leaves in gprA_0, and the XDP action each stands for.
 */
import { XdpAction } from '../../xdp/runtime/helpers/xdp-helpers.js';

export { XdpAction };

export const NfpAction = { EXCEPTION_DROP: 0x82, DROP: 0x22, PASS: 0x11, TX: 0x44 } as const;
export type NfpActionCode = (typeof NfpAction)[keyof typeof NfpAction];

/** The four offloadable actions by XDP code: byte k of this word is the NFP action of XDP code k. */
export const ACTION_TABLE = (NfpAction.TX << 24) | (NfpAction.PASS << 16) | (NfpAction.DROP << 8) | NfpAction.EXCEPTION_DROP;

/** The NFP action an XDP return value becomes: the four offloadable ones by table, anything else an exception drop. */
export function nfpActionOf(r0: bigint | number): number {
  const code = Number(BigInt.asUintN(32, BigInt(r0)));
  return code <= XdpAction.TX ? (ACTION_TABLE >>> (8 * code)) & 0xff : NfpAction.EXCEPTION_DROP;
}

const NAMES: Readonly<Record<number, string>> = {
  [NfpAction.EXCEPTION_DROP]: 'aborted', [NfpAction.DROP]: 'drop', [NfpAction.PASS]: 'pass', [NfpAction.TX]: 'tx',
};

/** `drop`, `pass`, `tx`, `aborted` (an exception drop), or the code in hex for anything else. */
export const nfpActionName = (code: number): string => NAMES[code] ?? `0x${code.toString(16)}`;
