/**
 * The card's per-packet entry state (docs/nic-image.md "Entry state"), what the
 * firmware sets before a run and reads after it, and what a translated image relies
 * on: the packet at CTM byte PKT_START, its context in GPRs 22–25 of both banks, and
 * in GPR 26 the local-memory address of the top 32-byte window of the thread's stack
 * (the NFP's firmware likewise hands its JIT the stack in a static register, gprA_22:
 * STATIC_REG_STACK in the kernel's nfp/bpf/main.h).
 */
import { MAX_BPF_STACK } from '../../xdp/runtime/vm.js';

/** CTM address of a packet's first byte on entry (inside the caps' adjust_head window). */
export const PKT_START = 128;

/** The context registers: `data` (the packet's CTM address), its length, ingress ifindex, rx queue. */
export const ENTRY_GPR = { data: 22, len: 23, ifindex: 24, rxQueue: 25, stackWindow: 26 } as const;

/** Bytes an LM pointer reaches without moving (8 words: the offsets of an `*l$indexN[k]` operand). */
export const LM_WINDOW = 32;
/** The stack: LM bytes 0 … MAX_BPF_STACK − 1, r10 at its top; the top window's address is in GPR 26 on entry. */
export const STACK_TOP = MAX_BPF_STACK;
export const STACK_TOP_WINDOW = STACK_TOP - LM_WINDOW;
