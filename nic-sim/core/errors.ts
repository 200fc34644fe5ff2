/**
 * The card-core executor's one error type (docs/nic-isa.md "Semantics": every
 * "executor error" there is one of these). Each names the PC and the instruction's
 * text (as the disassembler prints it), so a failing run reads as one line:
 *
 *   pc 7 `ctm[read32, $xfer_0, gprA_1, 0, 2], ctx_swap[sig1]`: ctm access 0xfffc+8 is outside the region (0x10000 bytes)
 */
import { XdpError } from '../../xdp/errors.js';

export type CoreErrorKind =
  /** The run executed its step limit without reaching the end address. */
  | 'step-limit'
  /** The PC (or a branch / return target) is outside the program and is no firmware address. */
  | 'bad-pc'
  /** A memory command or LM access outside its region, or a transfer range past $xfer_31. */
  | 'memory'
  /** An ordering rule is broken: defer-slot contents, the ACT_LM_ADDR write delay, local_csr_rd's immed, multiply steps. */
  | 'hazard'
  /** An instruction or operand value the executor refuses (a double shift by more than 32, a write to a read-only CSR). */
  | 'refused';

export class CoreError extends XdpError {
  readonly kind: CoreErrorKind;
  /** The reason alone, without the place. */
  readonly reason: string;
  /** PC of the instruction the error is about (-1 when none is). */
  readonly pc: number;
  /** The instruction's text ('' when none is). */
  readonly text: string;

  constructor(kind: CoreErrorKind, reason: string, pc: number, text: string) {
    super(`${pc >= 0 ? `pc ${pc}${text ? ` \`${text}\`` : ''}: ` : ''}${reason}`);
    this.kind = kind;
    this.reason = reason;
    this.pc = pc;
    this.text = text;
  }
}
