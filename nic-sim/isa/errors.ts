/**
 * The card ISA's one error type. Every problem with a card instruction — a word that
 * decodes to nothing, an instruction that cannot be encoded, assembly text that does
 * not parse — is an `IsaError` with a `kind` saying which, and the place it is about:
 * the word index in an image, the instruction index being encoded, or the source line.
 */
import { XdpError } from '../../xdp/errors.js';

export type IsaErrorKind = 'decode' | 'encode' | 'asm';

export interface IsaWhere {
  /** Index of the 64-bit word in the image (decode). */
  word?: number;
  /** The word itself (decode), printed in hex. */
  value?: bigint;
  /** Index of the instruction being encoded (encode). */
  insn?: number;
  /** 1-based source line (asm). */
  line?: number;
  /** Source file name, when the text came from a file (asm). */
  file?: string;
}

function prefix(where: IsaWhere): string {
  const parts: string[] = [];
  if (where.line !== undefined) parts.push(`line ${where.line}`);
  if (where.word !== undefined) {
    const hex = where.value !== undefined ? ` (0x${where.value.toString(16).padStart(11, '0')})` : '';
    parts.push(`word ${where.word}${hex}`);
  }
  if (where.insn !== undefined) parts.push(`insn ${where.insn}`);
  return parts.length ? `${parts.join(', ')}: ` : '';
}

export class IsaError extends XdpError {
  readonly kind: IsaErrorKind;
  /** The reason alone, without the place. */
  readonly reason: string;
  readonly word?: number;
  readonly insn?: number;
  readonly line?: number;

  constructor(kind: IsaErrorKind, reason: string, where: IsaWhere = {}) {
    super(`${prefix(where)}${reason}`, where.file !== undefined ? { file: where.file } : {});
    this.kind = kind;
    this.reason = reason;
    if (where.word !== undefined) this.word = where.word;
    if (where.insn !== undefined) this.insn = where.insn;
    if (where.line !== undefined) this.line = where.line;
  }
}

/** Raises an error about the thing being worked on; passed down instead of a location. */
export type Fail = (reason: string) => never;

export const encodeFail =
  (insn?: number): Fail =>
  (reason) => {
    throw new IsaError('encode', reason, insn !== undefined ? { insn } : {});
  };
