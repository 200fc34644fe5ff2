/**
 * A card profile: what a SmartNIC can run (the offload rules check programs
 * against it, offload/rules/) and how fast (the simulator's timing model).
 * Plain data, read from JSON (caps/profiles/*.json, validated by
 * caps/profile.schema.json) or from a card's capability area (caps/tlv.ts).
 * Where each figure of the shipped profiles comes from: docs/caps.md.
 */

export const XDP_ACTION_NAMES = ['aborted', 'drop', 'pass', 'tx', 'redirect'] as const;
export type XdpActionName = (typeof XDP_ACTION_NAMES)[number];

export const ATOMIC_OP_NAMES = ['add', 'or', 'and', 'xor', 'xchg', 'cmpxchg'] as const;
export type AtomicOpName = (typeof ATOMIC_OP_NAMES)[number];

/** The eBPF instruction classes and forms the card's translator accepts. */
export interface IsaCaps {
  /** Width of the card's registers: a 32-bit card holds each eBPF register in a pair. */
  readonly wordBits: 32 | 64;
  /** Multiply: not at all, only when both operands are known to fit in 32 bits, or any. */
  readonly mul: 'none' | 'u32' | 'full';
  /** Divide and modulo (unsigned): not at all, only by a constant that fits in 32 bits, or any. */
  readonly div: 'none' | 'const-u32' | 'full';
  /** cpu v4 signed divide and modulo (sdiv, smod). */
  readonly signedDiv: boolean;
  /** 32-bit ALU operations (BPF_ALU class). */
  readonly alu32: boolean;
  /** 32-bit conditional jumps (BPF_JMP32 class). */
  readonly jmp32: boolean;
  /** cpu v4 sign-extending moves and loads. */
  readonly signExtend: boolean;
  /** cpu v4 unconditional byte swap. */
  readonly bswap: boolean;
  /**
   * Loads of xdp_md fields other than data and data_end (data_meta, ingress_ifindex,
   * rx_queue_index, egress_ifindex): the NFP JIT translates only those two (mem_ldx_xdp).
   */
  readonly ctxAllFields: boolean;
  /** Atomic memory operations: which, whether the fetching forms, and on what memory. */
  readonly atomics: {
    readonly ops: readonly AtomicOpName[];
    readonly fetch: boolean;
    readonly on: readonly ('map_value' | 'stack')[];
  };
  /** bpf-to-bpf calls. */
  readonly calls: boolean;
  /** bpf_tail_call (needs PROG_ARRAY maps as well). */
  readonly tailCalls: boolean;
  /** Backward jumps (bounded loops). */
  readonly loops: boolean;
}

/** A helper the card implements. */
export interface HelperCap {
  readonly id: number;
  /** The kernel's name (`bpf_map_lookup_elem`); must match the id. */
  readonly name: string;
  /** The only flags value the card accepts in the helper's flags argument (perf_event_output: BPF_F_CURRENT_CPU). */
  readonly flags?: number;
  /** Firmware address of the helper's implementation (the NFP FUNC capability carries it). */
  readonly address?: number;
}

export interface MapCaps {
  /** Offloadable map types, by the kernel's name without BPF_MAP_TYPE_ ("ARRAY", "HASH"). */
  readonly types: readonly string[];
  readonly maxMaps: number;
  /** Entries over all maps together. */
  readonly maxEntries: number;
  readonly maxKeySize: number;
  readonly maxValueSize: number;
  /** Key and value together. */
  readonly maxElemSize: number;
}

/** bpf_xdp_adjust_head on the card (the NFP ADJUST_HEAD capability). */
export interface AdjustHeadCaps {
  /**
   * Where the packet may start in the card's buffer after an adjustment, in bytes from the
   * buffer's base (the nfp driver needs both to fit an 8-bit immediate, 0..255).
   */
  readonly offMin: number;
  readonly offMax: number;
  /**
   * Adjustments that need no run-time check: the packet can always grow by `guaranteedSub` bytes
   * at the front (offset down to −guaranteedSub) and shrink by `guaranteedAdd` (offset up to it).
   */
  readonly guaranteedSub: number;
  readonly guaranteedAdd: number;
  /** The firmware keeps no metadata in front of the packet (NFP_BPF_ADJUST_HEAD_NO_META). */
  readonly noMeta: boolean;
}

/** One level of the card's memory hierarchy. */
export interface MemoryLevel {
  readonly name: string;
  /** Cycles from a read command's issue to its completion signal (the issuing thread sleeps that long). */
  readonly latencyCycles: number;
  /** The same for a write. */
  readonly writeCycles: number;
  /** The same for an atomic (test-and-add, add to memory). */
  readonly atomicCycles: number;
  /** Cycles one command occupies the memory's command queue: it takes one command every serviceCycles. */
  readonly serviceCycles: number;
  /** Capacity in bytes. */
  readonly bytes: number;
}

/** What the card's own firmware does for every packet, around the program (cycles on the engine). */
export interface DatapathCosts {
  /** Taking a packet from the work queue and setting up the program's entry state. */
  readonly rxCycles: number;
  /** Handing a packet back to the wire (XDP_TX). */
  readonly txCycles: number;
  /** Handing a packet to the host (XDP_PASS): the receive descriptor. */
  readonly passCycles: number;
  /** Freeing a dropped packet's buffer (XDP_DROP, XDP_ABORTED). */
  readonly dropCycles: number;
}

/** The firmware's map routines: their own work (memory commands are priced by the memory) and the map lock. */
export interface FirmwareCosts {
  readonly lookupCycles: number;
  readonly updateCycles: number;
  readonly deleteCycles: number;
  /** Cycles an update or delete holds its map's lock. */
  readonly lockCycles: number;
}

/** What the simulator charges: the card's clock and parallelism, memories, instruction costs. */
export interface TimingModel {
  /** Clock in kHz (integers all the way down: 156.25 MHz is 156250). */
  readonly clockKHz: number;
  readonly cores: number;
  readonly threadsPerCore: number;
  /** Instructions a core can issue per cycle (VLIW lanes). */
  readonly issueWidth: number;
  readonly memories: readonly MemoryLevel[];
  /** Where packets, map values and the stack live (names of `memories`). */
  readonly packetMemory: string;
  readonly mapMemory: string;
  readonly stackMemory: string;
  /** Cycles per card instruction of each kind (memory accesses add their level's latency). */
  readonly costs: {
    readonly alu: number;
    readonly mul: number;
    readonly div: number;
    readonly branch: number;
    readonly helperCall: number;
  };
  readonly datapath: DatapathCosts;
  readonly firmware: FirmwareCosts;
  /** Packets each engine's ingress queue holds beyond its busy threads (more arriving are ingress_overflow drops). */
  readonly ingressQueue: number;
  /** The default link the simulator offers packets at, in Mb/s (`offload run --link` overrides it). */
  readonly linkMbps: number;
  /** Moving a packet between the MAC and packet memory: fixed cycles plus its bytes at bytesPerCycle. */
  readonly dma: { readonly cycles: number; readonly bytesPerCycle: number };
  /** The host link: what a packet passed to (or run on) the host costs to cross. */
  readonly pcie: { readonly mbps: number; readonly latencyNs: number };
  /** One control message's round trip through the card's mailbox (map access from the host). */
  readonly mailboxNs: number;
}

export interface CardProfile {
  /** What `--caps` takes (`nfp-4000`). */
  readonly name: string;
  readonly vendor: string;
  readonly model: string;
  readonly description: string;
  /** BPF ABI version of the firmware. */
  readonly abiVersion: number;
  readonly isa: IsaCaps;
  /** Helpers the card implements; everything else is not available on it. */
  readonly helpers: readonly HelperCap[];
  readonly maps: MapCaps;
  /** Stack per call chain in bytes, allocated in frames of `frameBytes`. */
  readonly stack: { readonly bytes: number; readonly frameBytes: number };
  /** Program size limit in card instructions. */
  readonly maxInsns: number;
  /** Packet bytes from the start of the frame reachable on-chip (the split boundary). */
  readonly packetSplitBytes: number;
  /** Parameters of bpf_xdp_adjust_head; present exactly when helper 44 is listed. */
  readonly adjustHead?: AdjustHeadCaps;
  /** rx_queue_index may be written (the NFP QUEUE_SELECT capability). */
  readonly queueSelect: boolean;
  /** Control messages may carry several map entries (NFP CMSG_MULTI_ENT). */
  readonly cmsgMultiEnt: boolean;
  /** XDP return codes the card carries out. */
  readonly actions: readonly XdpActionName[];
  readonly timing: TimingModel;
}
