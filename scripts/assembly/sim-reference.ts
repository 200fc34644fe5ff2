/**
 * The reference loop of `npm run bench:sim` (scripts/lib/sim-reference.ts) written as
 * WebAssembly (AssemblyScript, built by `npm run build`): the same work, operation for
 * operation, so that the benchmark can say how fast that strict subset of a packet's work
 * runs when it is not JavaScript — the floor a WebAssembly implementation of the whole
 * model would start from. JavaScript writes each frame into packet memory (`packetArea`),
 * as the card's copy into CTM, and calls `packet`.
 */

const HEADROOM: usize = 128;
const MAX_PACKET: usize = 65535;
const FCS_BYTES = 4;
const MIN_FRAME = 64;
const PREAMBLE_AND_GAP = 20;

let table: usize = 0; // the Toeplitz table: 256 entries per input byte (rss/toeplitz.ts)
let maxInput: i32 = 0;
let ctm: usize = 0;
let gprs: usize = 0; // 64 words: bank A, then bank B
let lm: usize = 0;
let emem: usize = 0;
let free: usize = 0;
let latency: usize = 0;
let cycles: usize = 0;
let engines: i32 = 1;
let cyclesPerBit: f64 = 0;
let clockHz: f64 = 1;
let clock: f64 = 0;

function zeroed(bytes: usize): usize {
  const p = heap.alloc(bytes);
  memory.fill(p, 0, bytes);
  return p;
}

/** Memory for a key of `inputBytes` hashable bytes; the address of its table (JavaScript fills it). */
export function setup(engineCount: i32, linkMbps: f64, hz: f64, inputBytes: i32): usize {
  engines = engineCount;
  clockHz = hz;
  cyclesPerBit = hz / (linkMbps * 1e6);
  maxInput = inputBytes;
  table = zeroed(<usize>inputBytes * 256 * 4);
  ctm = zeroed(HEADROOM + MAX_PACKET);
  gprs = zeroed(64 * 4);
  lm = zeroed(4096);
  emem = zeroed(64 + 256 * 8);
  free = zeroed(<usize>engineCount * 8);
  latency = zeroed(4096 * 8);
  cycles = zeroed(4096 * 8);
  return table;
}

/** Where JavaScript writes a frame: packet memory past the headroom. */
export function packetArea(): usize {
  return ctm + HEADROOM;
}

@inline function u16(at: usize): i32 {
  return (<i32>load<u8>(at) << 8) | <i32>load<u8>(at + 1);
}

@inline function l4PortsAt(p: usize, len: i32, proto: i32, at: i32): i32 {
  return (proto == 6 || proto == 17) && at + 4 <= len ? at : 0;
}

/** rss/flow-key.ts rssHashOf: the frame's flow fields hashed, or −1 without a flow. */
function rssHash(p: usize, len: i32): i64 {
  if (len < 14) return -1;
  let l3 = 14;
  for (let tags = 0; tags < 2 && l3 <= len; tags++) {
    const type = u16(p + <usize>l3 - 2);
    if (type != 0x8100 && type != 0x88a8) break;
    l3 += 4;
  }
  if (l3 > len) return -1;
  const type = u16(p + <usize>l3 - 2);
  let addrs = 0;
  let addrLen = 0;
  let ports = 0;
  if (type == 0x0800) {
    if (l3 + 20 > len || (load<u8>(p + <usize>l3) >> 4) != 4) return -1;
    const ihl = 4 * (<i32>load<u8>(p + <usize>l3) & 0x0f);
    if (ihl < 20) return -1;
    const fragment = (u16(p + <usize>l3 + 6) & 0x3fff) != 0;
    addrs = l3 + 12;
    addrLen = 4;
    ports = fragment ? 0 : l4PortsAt(p, len, load<u8>(p + <usize>l3 + 9), l3 + ihl);
  } else if (type == 0x86dd) {
    if (l3 + 40 > len || (load<u8>(p + <usize>l3) >> 4) != 6) return -1;
    addrs = l3 + 8;
    addrLen = 16;
    ports = l4PortsAt(p, len, load<u8>(p + <usize>l3 + 6), l3 + 40);
  } else {
    return -1;
  }
  const addrBytes = 2 * addrLen;
  if ((ports == 0 ? addrBytes : addrBytes + 4) > maxInput) return -1;
  let h: u32 = 0;
  for (let i = 0; i < addrBytes; i++) h ^= load<u32>(table + ((<usize>i << 8) | load<u8>(p + <usize>(addrs + i))) * 4);
  if (ports != 0) {
    for (let i = 0; i < 4; i++) h ^= load<u32>(table + ((<usize>(addrBytes + i) << 8) | load<u8>(p + <usize>(ports + i))) * 4);
  }
  return <i64>h;
}

@inline function setA(n: i32, v: u32): void {
  store<u32>(gprs + (<usize>n << 2), v);
}
@inline function setB(n: i32, v: u32): void {
  store<u32>(gprs + (<usize>(32 + n) << 2), v);
}
@inline function a(n: i32): u32 {
  return load<u32>(gprs + (<usize>n << 2));
}
@inline function b(n: i32): u32 {
  return load<u32>(gprs + (<usize>(32 + n) << 2));
}

/** One frame of `len` bytes, already in packet memory: its latency in ns (the JavaScript loop sums these). */
export function packet(len: i32): f64 {
  const p = ctm + HEADROOM;
  const hash = rssHash(p, len);
  const engine = hash < 0 ? 0 : <i32>((<u32>hash & 127) % <u32>engines);
  const wire = len + FCS_BYTES > MIN_FRAME ? len + FCS_BYTES : MIN_FRAME;
  clock += <f64>(8 * (wire + PREAMBLE_AND_GAP)) * cyclesPerBit;
  memory.fill(gprs, 0, 64 * 4);
  memory.fill(lm, 0, 512);
  setA(22, <u32>HEADROOM);
  setB(22, <u32>HEADROOM);
  setA(23, <u32>len);
  setB(23, <u32>len);
  let c = 120;
  for (let k = 0; k < 16; k++) {
    const v = a(22) + b(23) + <u32>k;
    setA(2 + (k & 7), v);
    setB(2 + (k & 7), v);
    c++;
  }
  const type = u16(p + 12);
  if (type == 0x0800) {
    const proto = load<u8>(p + 23);
    store<u8>(lm + 508, proto);
    const at = emem + 64 + <usize>proto * 8;
    const lo = <u64>load<u32>(at) + 1;
    store<u32>(at, <u32>lo);
    store<u32>(at + 4, load<u32>(at + 4) + (lo > 0xffffffff ? 1 : 0));
    c += 20;
  }
  for (let k = 0; k < 16; k++) {
    const v = a(2 + (k & 7)) ^ b(10 + (k & 7));
    setA(10 + (k & 7), v);
    setB(10 + (k & 7), v);
    c++;
  }
  const ready = clock + 110;
  const f = load<f64>(free + (<usize>engine << 3));
  const start = f > ready ? f : ready;
  const end = start + <f64>c + 140;
  store<f64>(free + (<usize>engine << 3), end);
  const ns = ((end - clock) * 1e9) / clockHz;
  const li: usize = ns < 4095 ? <usize>Math.floor(ns) : 4095;
  store<f64>(latency + (li << 3), load<f64>(latency + (li << 3)) + 1);
  const ci: usize = c < 4095 ? <usize>c : 4095;
  store<f64>(cycles + (ci << 3), load<f64>(cycles + (ci << 3)) + 1);
  return ns;
}
