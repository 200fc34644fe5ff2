/**
 * The Toeplitz hash NICs spread packets over receive queues with (RSS): for each bit
 * of the input, most significant first, that is set, XOR in the 32 bits of the key
 * that start at that bit's position. The input is the flow's addresses and ports in
 * network byte order — source address, destination address, source port, destination
 * port (Microsoft's "Verifying the RSS Hash Calculation", the Intel 82599 datasheet
 * §7.1.2.8, which the kernel's drivers follow). Hand-written: a table per input byte,
 * built once per key, makes a hash one lookup and XOR per input byte; the tables lie
 * end to end in one array, so a lookup is one index.
 *
 * `hash` takes the input as one array (`rssInput` builds it). `hashAt` reads the same
 * bytes where they lie in a frame — the two addresses side by side in the IP header,
 * the two ports side by side at the start of the TCP or UDP header — and gives the same
 * hash without building the input: the simulator hashes every packet, and an input
 * array per packet cost more than the hash itself.
 *
 * The 40-byte key of the verification suite is here as `RSS_VERIFICATION_KEY`. Linux
 * itself has no fixed key: `netdev_rss_key_fill` draws one at random once per boot,
 * so a simulation that wants reproducible queues names its key.
 */

/** The verification suite's key (Microsoft, Intel 82599 datasheet). */
export const RSS_VERIFICATION_KEY: Uint8Array = Uint8Array.from([
  0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
  0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
  0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
]);

/** The longest input: two IPv6 addresses and two ports. */
export const MAX_RSS_INPUT = 36;

/** A key's hash function, for inputs up to `key.length − 4` bytes. */
export class Toeplitz {
  /** table[256 * i + v]: what input byte i with value v adds to the hash. */
  readonly table: Uint32Array;
  /** The longest input the key hashes: key.length − 4 bytes. */
  private readonly maxInput: number;

  constructor(key: Uint8Array) {
    if (key.length < 5) throw new RangeError(`an RSS key has at least 5 bytes, this one ${key.length}`);
    const bytes = key.length - 4;
    // The 32 key bits starting at bit b (most significant first).
    const window = (b: number): number => {
      let w = 0;
      for (let k = 0; k < 32; k++) {
        const bit = b + k;
        w = (w << 1) | ((key[bit >> 3]! >> (7 - (bit & 7))) & 1);
      }
      return w >>> 0;
    };
    this.maxInput = bytes;
    this.table = new Uint32Array(256 * bytes);
    for (let i = 0; i < bytes; i++) {
      const bitWindows = Array.from({ length: 8 }, (_, j) => window(8 * i + j));
      for (let v = 0; v < 256; v++) {
        let h = 0;
        for (let j = 0; j < 8; j++) if (v & (0x80 >> j)) h ^= bitWindows[j]!;
        this.table[256 * i + v] = h >>> 0;
      }
    }
  }

  /** The hash of `input[0 .. length)`. */
  hash(input: Uint8Array, length = input.length): number {
    if (length > this.maxInput) throw new RangeError(`RSS input of ${length} bytes is longer than the key allows (${this.maxInput})`);
    const table = this.table;
    let h = 0;
    for (let i = 0; i < length; i++) h ^= table[(i << 8) | input[i]!]!;
    return h >>> 0;
  }

  /**
   * The hash of the input laid out in `frame`: the source and destination address,
   * `addrLen` bytes each, contiguous from `addrsAt`, then, when `portsAt` is not −1, the
   * four bytes of the source and destination port from `portsAt` — what `hash` gives for
   * `rssInput` of the same fields. The caller has checked that the frame holds them.
   */
  hashAt(frame: Uint8Array, addrsAt: number, addrLen: number, portsAt: number): number {
    const addrBytes = 2 * addrLen;
    const length = portsAt < 0 ? addrBytes : addrBytes + 4;
    if (length > this.maxInput) throw new RangeError(`RSS input of ${length} bytes is longer than the key allows (${this.maxInput})`);
    const table = this.table;
    let h = 0;
    for (let i = 0; i < addrBytes; i++) h ^= table[(i << 8) | frame[addrsAt + i]!]!;
    if (portsAt >= 0) {
      for (let i = 0; i < 4; i++) h ^= table[((addrBytes + i) << 8) | frame[portsAt + i]!]!;
    }
    return h >>> 0;
  }
}

/**
 * The hash input of a flow: source and destination address (4 or 16 bytes each), then, when
 * given, source and destination port, all in network byte order.
 */
export function rssInput(src: Uint8Array, dst: Uint8Array, ports?: { readonly src: number; readonly dst: number }): Uint8Array {
  if (src.length !== dst.length || (src.length !== 4 && src.length !== 16)) {
    throw new RangeError(`RSS addresses are both IPv4 (4 bytes) or both IPv6 (16), not ${src.length} and ${dst.length}`);
  }
  const out = new Uint8Array(2 * src.length + (ports ? 4 : 0));
  out.set(src, 0);
  out.set(dst, src.length);
  if (ports) {
    const at = 2 * src.length;
    out[at] = ports.src >> 8;
    out[at + 1] = ports.src & 0xff;
    out[at + 2] = ports.dst >> 8;
    out[at + 3] = ports.dst & 0xff;
  }
  return out;
}
