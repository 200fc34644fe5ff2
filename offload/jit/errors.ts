/**
 * The JIT's one error type. Every refusal names the eBPF instruction it is about by
 * its kernel instruction index (8-byte slots, as the verifier's log and the source
 * map count) and says why, with a `kind` a caller can switch on:
 *
 * - `unsupported`: an instruction (or an operand of it) this translator does not lower;
 * - `bad-target`: a jump whose target is not the start of an instruction;
 * - `too-large`: the card image would not fit the 14-bit branch-target space;
 * - `too-long`: the image is over the card's program-size limit (max_instr);
 * - `refused`: the verifier refused the program, so nothing is translated.
 */
import { XdpError } from '../../xdp/errors.js';

export type JitErrorKind = 'unsupported' | 'bad-target' | 'too-large' | 'too-long' | 'refused';

export class JitError extends XdpError {
  readonly kind: JitErrorKind;
  /** The eBPF instruction index (kernel slot) the error is about. */
  readonly index: number;
  /** The reason alone, without the place. */
  readonly reason: string;
  constructor(kind: JitErrorKind, index: number, reason: string) {
    super(`eBPF instruction ${index}: ${reason}`, { insn: index });
    this.kind = kind;
    this.index = index;
    this.reason = reason;
  }
}
