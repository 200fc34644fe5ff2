/**
 * bpf_trace_printk's formatting (kernel/trace/bpf_trace.c, bpf_bprintf_prepare):
 * up to three arguments taken from r3..r5, conversions %d %i %u %x %X %c %p
 * with the l/ll length modifiers, %s reading a NUL-terminated string from
 * program memory, and %%. Anything else is refused as the kernel refuses it.
 */
import { MemoryFault } from '../memory.js';
import type { Vm } from '../vm.js';
import { toBig } from '../alu64.js';

const MAX_STR = 64;

export function formatTracePrintk(vm: Vm, fmtBytes: Uint8Array): string {
  const nul = fmtBytes.indexOf(0);
  if (nul < 0) throw new MemoryFault('bpf_trace_printk format is not NUL-terminated within fmt_size');
  const fmt = new TextDecoder().decode(fmtBytes.subarray(0, nul));
  let arg = 0;
  const next = (): bigint => {
    if (arg >= 3) throw new MemoryFault('bpf_trace_printk format uses more than 3 arguments');
    const n = 3 + arg++;
    return toBig(vm.regs[2 * n]!, vm.regs[2 * n + 1]!);
  };
  return fmt.replace(/%(%|(l{0,2})([diuxXcsp]))/g, (_m, all: string, len: string, conv: string | undefined) => {
    if (all === '%') return '%';
    const raw = next();
    const bits = len === '' ? 32 : 64;
    const unsigned = BigInt.asUintN(bits, raw);
    switch (conv) {
      case 'd': case 'i': return BigInt.asIntN(bits, raw).toString();
      case 'u': return unsigned.toString();
      case 'x': return unsigned.toString(16);
      case 'X': return unsigned.toString(16).toUpperCase();
      case 'c': return String.fromCharCode(Number(raw & 0xffn));
      case 'p': return `0x${BigInt.asUintN(64, raw).toString(16)}`;
      default: return readString(vm, raw);
    }
  });
}

function readString(vm: Vm, ptr: bigint): string {
  const hi = Number(BigInt.asIntN(32, ptr >> 32n));
  const lo = Number(BigInt.asIntN(32, ptr));
  const r = vm.memory.regions[hi];
  if (!r || lo < r.lo || lo >= r.hi) return '(efault)';
  const end = Math.min(r.hi, lo + MAX_STR);
  const bytes = r.bytes.subarray(lo, end);
  const nul = bytes.indexOf(0);
  return new TextDecoder().decode(nul < 0 ? bytes : bytes.subarray(0, nul));
}
