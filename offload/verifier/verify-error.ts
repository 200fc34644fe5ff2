/**
 * A refusal by the verifier: the message the kernel's log would end with, and
 * the instruction (slot index, as the kernel counts) it blames.
 */
export class VerifyError extends Error {
  constructor(message: string, readonly insn: number) {
    super(message);
    this.name = 'VerifyError';
  }
}
