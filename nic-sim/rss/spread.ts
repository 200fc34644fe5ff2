/**
 * Spreading frames over receive queues as a NIC's RSS does: the Toeplitz hash of the
 * frame's flow (flow-key.ts), its low bits an index into an indirection table whose
 * entry is the queue. The table is filled as the kernel does by default
 * (`ethtool_rxfh_indir_default`: entry i is queue i mod n) with 128 entries, the size
 * of the Intel 82599's and of the NFP's (NFP_NET_CFG_RSS_ITBL_SZ). Frames without a
 * flow go to queue 0. Both run once per simulated packet and allocate nothing: the hash
 * is taken where the fields lie in the frame (`rssHashOf`).
 */
import { rssHashOf } from './flow-key.js';
import { Toeplitz } from './toeplitz.js';

export const RSS_TABLE_SIZE = 128;

export class RssSpreader {
  private readonly hasher: Toeplitz;
  private readonly table: Uint16Array;
  private readonly mask: number;

  constructor(key: Uint8Array, readonly queues: number, tableSize = RSS_TABLE_SIZE) {
    if (!Number.isInteger(queues) || queues < 1) throw new RangeError(`RSS needs at least one queue, not ${queues}`);
    if (!Number.isInteger(tableSize) || tableSize < 1 || (tableSize & (tableSize - 1)) !== 0) {
      throw new RangeError(`the RSS indirection table has a power-of-two size, not ${tableSize}`);
    }
    this.hasher = new Toeplitz(key);
    this.table = Uint16Array.from({ length: tableSize }, (_, i) => i % queues);
    this.mask = tableSize - 1;
  }

  /** The hash's tables (nic-sim/replay/packet-path.ts runs the same spreading in WebAssembly): the Toeplitz table by input byte and value, the indirection table, the index mask. */
  tables(): { readonly toeplitz: Uint32Array; readonly indirection: Uint16Array; readonly mask: number } {
    return { toeplitz: this.hasher.table, indirection: this.table, mask: this.mask };
  }

  /** The frame's hash, or undefined when it has no flow to hash. */
  hashOf(frame: Uint8Array): number | undefined {
    const h = rssHashOf(frame, this.hasher);
    return h < 0 ? undefined : h;
  }

  /** The queue the frame is received on. */
  queueOf(frame: Uint8Array): number {
    const h = rssHashOf(frame, this.hasher);
    return h < 0 ? 0 : this.table[h & this.mask]!;
  }
}
