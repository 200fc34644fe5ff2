/**
 * A refusal by the verifier: the message the kernel's log would end with, and
 * the instruction (slot index, as the kernel counts) it blames.
 */
export class VerifyError extends Error {
  /**
   * `structure`: found by the checks before the walk (opcodes, jumps, reachability), where the
   * kernel's log names no current instruction; `walk`: found on a path.
   */
  constructor(message: string, readonly insn: number, readonly pass: 'structure' | 'walk' = 'walk') {
    super(message);
    this.name = 'VerifyError';
  }
}
