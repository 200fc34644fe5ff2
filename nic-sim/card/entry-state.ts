/**
 * The card's per-packet entry state (docs/nic-image.md "Entry state"), what the
 * firmware sets before a run and reads after it, and what a translated image relies
 * on: the packet at CTM byte PKT_START, its context in GPRs 22–25 of both banks.
 */

/** CTM address of a packet's first byte on entry (inside the caps' adjust_head window). */
export const PKT_START = 128;

/** The context registers: `data` (the packet's CTM address), its length, ingress ifindex, rx queue. */
export const ENTRY_GPR = { data: 22, len: 23, ifindex: 24, rxQueue: 25 } as const;
