/**
 * A packet's whole way through the card in one WebAssembly call (AssemblyScript,
 * compiled by `npm run build` to dist/wasm/packet-path.wasm; nic-sim/replay/packet-path.ts
 * links it): the frame's arrival at the offered load, its RSS queue (the Toeplitz hash
 * of its flow through the indirection table), the MAC's MTU check, its engine's
 * admission, the card's code run on it (the image compiled to WebAssembly,
 * nic-sim/core/compile-wasm.ts `run`), the firmware's receive and action work added to
 * its segments, and the hand-over to its engine in the timing core
 * (nic-sim/timing/assembly/timing-core.ts). It does, step for step and in the same
 * IEEE-double order, what card-engine.ts, card-timing.ts, card.ts and the RSS modules
 * (nic-sim/rss/flow-key.ts, toeplitz.ts, spread.ts) do in JavaScript for a packet, so
 * the outcomes are the same to the bit; anything unusual — a run the interpreter goes
 * on with, segments moved out to JavaScript, a packet left outside its buffer — it
 * hands back for JavaScript to finish. Hand-written: no package models an NFP card.
 *
 * It works on the card's memory (imported), where the frame already lies at the
 * packet's start: its tallies and RSS tables in the region card-memory.ts keeps for
 * it, the code's registers and work cells where compile-wasm.ts puts them. It holds
 * no data of its own and allocates nothing.
 */

// Ethernet and IP as flow-key.ts and wire.ts read them (AssemblyScript names the module without its .js).
import {
  ETH_HLEN, ETH_P_8021AD, ETH_P_8021Q, ETH_P_IP, ETH_P_IPV6, FCS_BYTES, IPPROTO_TCP, IPPROTO_UDP, MAX_VLAN_TAGS, MIN_FRAME, PREAMBLE_AND_GAP, VLAN_HLEN,
} from '../../rss/ethernet';

// The card's code and the timing core (instances of their own; calls go straight to them).
@external("card", "run")
declare function cardRun(len: i32): i32;
@external("core", "cardAdmit")
declare function coreAdmit(engine: i32, t: f64): bool;
@external("core", "inputSegment")
declare function coreSegment(i: i32, v: f64): void;
@external("core", "cardToEngine")
declare function coreToEngine(engine: i32, id: f64, t: f64, inBytes: f64, n: i32, compute: f64, sleep: f64, egress: i32, outBytes: f64, observe: bool): bool;

// What `packet` answers besides an XDP action (0 … 3): the packet-path.ts side names them too.
const OVERFLOW = -1;
const OVERSIZE = -2;
const RESUME = -3;
const FINISH_IN_JS = -4;
const OUTSIDE = -5;
const NOT_TAKEN = -6;

// The XDP actions (linux/bpf.h enum xdp_action) and the timing core's egress codes.
const XDP_ABORTED = 0;
const XDP_DROP = 1;
const XDP_PASS = 2;
const XDP_TX = 3;
const EGRESS_WIRE = 0;
const EGRESS_HOST = 1;
const EGRESS_NONE = 2;

// The tallies (f64, card-timing.ts numbers them the same).
const T_CLOCK = 0;
const T_OFFERED = 1;
const T_WIRE_BITS = 2;
const T_OVERFLOW = 3;
const T_OVERSIZE = 4;
const T_BEYOND_SPLIT = 5;


// Where things lie (byte addresses in the card memory) and the card's numbers, from `init`.
let frame: usize = 0; // the packet's first byte (CTM + packet start)
let packetStart: i32 = 0; // its CTM address
let ctmBytes: i64 = 0;
let gprData: usize = 0; // bank A's GPR holding the packet's CTM address, and its length
let gprLen: usize = 0;
let gprAction: usize = 0;
let segN: usize = 0; // the work's i32 cells: segments in the area, segments JavaScript holds, CTM reached
let held: usize = 0;
let dirty: usize = 0;
let work: usize = 0; // f64: cur, compute, sleep, steps
let segs: usize = 0;
let segCapacity: i32 = 0;
let tally: usize = 0;
let rssTable: usize = 0; // u32 per (input byte, value)
let rssIndirection: usize = 0; // u16 queue per entry
let rssMask: i32 = 0;
let linkBitsPerSecond: f64 = 0; // 0: a fixed packet rate
let hz: f64 = 0;
let ratePeriod: f64 = 0;
let mtu: i32 = -1;
let splitBytes: i32 = 0;
let rxCycles: f64 = 0;
let txCycles: f64 = 0;
let passCycles: f64 = 0;
let dropCycles: f64 = 0;
let nfpDrop: u32 = 0;
let nfpPass: u32 = 0;
let nfpTx: u32 = 0;
// The packet being run: its engine, and where the interpreter goes on.
let engineOf: i32 = 0;
let resumeAt: i32 = 0;

/** Where everything lies and the card's numbers (packet-path.ts reads them from the card, its timing and its profile). */
export function init(
  ctmAt: usize, startAt: i32, ctmLength: i32, dataAt: usize, lenAt: usize, actionAt: usize,
  segNAt: usize, heldAt: usize, dirtyAt: usize, workAt: usize, segsAt: usize, segCap: i32,
  tallyAt: usize, tableAt: usize, indirectionAt: usize, mask: i32,
  linkRate: f64, clockHz: f64, period: f64, mtuBytes: i32, split: i32,
  rx: f64, tx: f64, pass: f64, drop: f64, codeDrop: u32, codePass: u32, codeTx: u32,
): void {
  frame = ctmAt + <usize>startAt;
  packetStart = startAt;
  ctmBytes = ctmLength;
  gprData = dataAt;
  gprLen = lenAt;
  gprAction = actionAt;
  segN = segNAt;
  held = heldAt;
  dirty = dirtyAt;
  work = workAt;
  segs = segsAt;
  segCapacity = segCap;
  tally = tallyAt;
  rssTable = tableAt;
  rssIndirection = indirectionAt;
  rssMask = mask;
  linkBitsPerSecond = linkRate;
  hz = clockHz;
  ratePeriod = period;
  mtu = mtuBytes;
  splitBytes = split;
  rxCycles = rx;
  txCycles = tx;
  passCycles = pass;
  dropCycles = drop;
  nfpDrop = codeDrop;
  nfpPass = codePass;
  nfpTx = codeTx;
}

@inline function u8At(at: i32): i32 {
  return <i32>load<u8>(frame + <usize>at);
}
@inline function u16At(at: i32): i32 {
  return (u8At(at) << 8) | u8At(at + 1);
}
@inline function bump(which: i32, by: f64): void {
  const at = tally + (<usize>which << 3);
  store<f64>(at, load<f64>(at) + by);
}

/** Bytes of the Ethernet header with up to two VLAN tags (flow-key.ts ethHeaderLength). */
function ethHeaderLength(len: i32): i32 {
  let h = ETH_HLEN;
  for (let tags = 0; tags < MAX_VLAN_TAGS && h <= len; tags++) {
    const type = u16At(h - 2);
    if (type != ETH_P_8021Q && type != ETH_P_8021AD) break;
    h += VLAN_HLEN;
  }
  return h;
}

/** input byte i with value v's share of the hash. */
@inline function tableAt(i: i32, v: i32): u32 {
  return load<u32>(rssTable + ((<usize>((i << 8) | v)) << 2));
}

/** The hash of `count` bytes from `at`, as input bytes `first` on (toeplitz.ts hashAt). */
function hashBytes(h: u32, at: i32, count: i32, first: i32): u32 {
  for (let i = 0; i < count; i++) h ^= tableAt(first + i, u8At(at + i));
  return h;
}

/** `at` when the protocol has ports and the frame holds them there, else 0 (flow-key.ts l4PortsAt). */
@inline function l4PortsAt(len: i32, proto: i32, at: i32): i32 {
  return (proto == IPPROTO_TCP || proto == IPPROTO_UDP) && at + 4 <= len ? at : 0;
}

/** The RSS queue of the frame's `len` bytes (spread.ts queueOf): queue 0 for a frame without a flow. */
export function queueOf(len: i32): i32 {
  if (len < ETH_HLEN) return 0;
  const l3 = ethHeaderLength(len);
  if (l3 > len) return 0;
  const type = u16At(l3 - 2);
  let addrs = 0;
  let addrLen = 0;
  let ports = 0;
  if (type == ETH_P_IP) {
    if (l3 + 20 > len || u8At(l3) >> 4 != 4) return 0;
    const ihl = 4 * (u8At(l3) & 0x0f);
    if (ihl < 20) return 0;
    addrs = l3 + 12;
    addrLen = 4;
    const fragment = (u16At(l3 + 6) & 0x3fff) != 0;
    ports = fragment ? 0 : l4PortsAt(len, u8At(l3 + 9), l3 + ihl);
  } else if (type == ETH_P_IPV6) {
    if (l3 + 40 > len || u8At(l3) >> 4 != 6) return 0;
    addrs = l3 + 8;
    addrLen = 16;
    ports = l4PortsAt(len, u8At(l3 + 6), l3 + 40);
  } else {
    return 0;
  }
  let h = hashBytes(0, addrs, 2 * addrLen, 0);
  if (ports != 0) h = hashBytes(h, ports, 4, 2 * addrLen);
  return <i32>load<u16>(rssIndirection + (<usize>(<i32>h & rssMask) << 1));
}

/**
 * One frame of `capLen` captured bytes, `origLen` on the wire, already at the packet's
 * start: an XDP action when it ran and was given to its engine (trace id `id`), or why
 * not (OVERFLOW, OVERSIZE), or what JavaScript is to finish (RESUME, FINISH_IN_JS,
 * OUTSIDE; the engine is `engine()`, the arrival the clock tally).
 */
export function packet(capLen: i32, origLen: i32, id: f64): i32 {
  // Its arrival (card-timing.ts arrive): its wire time at the link's rate, or the packet rate's period.
  const bits = 8 * <f64>(max(origLen + FCS_BYTES, MIN_FRAME) + PREAMBLE_AND_GAP);
  const t = load<f64>(tally + (T_CLOCK << 3)) + (linkBitsPerSecond != 0 ? (bits / linkBitsPerSecond) * hz : ratePeriod);
  store<f64>(tally + (T_CLOCK << 3), t);
  bump(T_WIRE_BITS, bits);
  bump(T_OFFERED, 1);
  const engine = queueOf(capLen);
  engineOf = engine;
  // The frame's bytes lie in CTM now: whatever runs next clears them where it does not cover them.
  const reach = packetStart + capLen;
  if (load<i32>(dirty) < reach) store<i32>(dirty, reach);
  // What the MAC and the packet buffer make of it (card-engine.ts arriveFrame), then its engine's queue.
  if (mtu >= 0 && origLen - ETH_HLEN > mtu && origLen - ethHeaderLength(capLen) > mtu) {
    bump(T_OVERSIZE, 1);
    return OVERSIZE;
  }
  if (origLen > splitBytes) bump(T_BEYOND_SPLIT, 1);
  if (!coreAdmit(engine, t)) {
    bump(T_OVERFLOW, 1);
    return OVERFLOW;
  }
  // The firmware's receive work begins the packet's work (meter.ts TimedWork begin), then the card's code runs.
  store<f64>(work, rxCycles);
  store<f64>(work + 8, rxCycles);
  store<f64>(work + 16, 0);
  store<f64>(work + 24, 0);
  store<i32>(segN, 0);
  store<i32>(held, 0);
  const resume = cardRun(capLen);
  if (resume >= 0) {
    resumeAt = resume;
    return RESUME;
  }
  let n = load<i32>(segN);
  if (load<i32>(held) != 0 || n >= segCapacity) return FINISH_IN_JS;
  // The packet as the image left it (card.ts leave): the CTM it may have grown into is cleared next time.
  const start = <i64>load<u32>(gprData);
  const len = <i64>load<u32>(gprLen);
  const left = start + len;
  if (left > <i64>load<i32>(dirty)) store<i32>(dirty, <i32>min(left, ctmBytes));
  if (left > ctmBytes) return OUTSIDE;
  // Its action, where it leaves, and the firmware's work for it (card-engine.ts NFP_TO_XDP).
  const nfp = load<u32>(gprAction);
  let action = XDP_ABORTED;
  let egress = EGRESS_NONE;
  let tail = dropCycles;
  if (nfp == nfpDrop) {
    action = XDP_DROP;
  } else if (nfp == nfpPass) {
    action = XDP_PASS;
    egress = EGRESS_HOST;
    tail = passCycles;
  } else if (nfp == nfpTx) {
    action = XDP_TX;
    egress = EGRESS_WIRE;
    tail = txCycles;
  }
  // The work ends with it (TimedWork end): the last segment.
  const cur = load<f64>(work) + tail;
  const compute = load<f64>(work + 8) + tail;
  store<f64>(work, cur);
  store<f64>(work + 8, compute);
  store<f64>(segs + (<usize>n << 3), cur);
  n++;
  store<i32>(segN, n);
  // To its engine (card-timing.ts toEngine, the capacity estimate fed too); the frame's bytes past the snap length are moved as well.
  for (let k = 0; k < n; k++) coreSegment(k, load<f64>(segs + (<usize>k << 3)));
  const outBytes = <f64>len + <f64>max(origLen - capLen, 0);
  if (!coreToEngine(engine, id, t, <f64>origLen, n, compute, load<f64>(work + 16), egress, outBytes, true)) return NOT_TAKEN;
  return action;
}

/** The engine of the packet `packet` last took in. */
export function engine(): i32 {
  return engineOf;
}

/** Where the interpreter goes on after `packet` answered RESUME. */
export function resumePc(): i32 {
  return resumeAt;
}
