/**
 * Typed errors of the xdp layer. Each carries where it is about — a file, a byte
 * offset inside it, an instruction index, a JSON path — so the CLI can print one
 * clear line instead of a stack trace.
 */

export interface Location {
  /** File the problem is in, as the user named it. */
  file?: string;
  /** Byte offset inside the file (or inside the named section when `section` is set). */
  offset?: number;
  /** ELF section the offset is relative to. */
  section?: string;
  /** Instruction index inside a program. */
  insn?: number;
  /** JSON path of a document value. */
  path?: string;
}

export function formatLocation(loc: Location): string {
  const parts: string[] = [];
  if (loc.file !== undefined) parts.push(loc.file);
  if (loc.section !== undefined) parts.push(`section ${loc.section}`);
  if (loc.offset !== undefined) parts.push(`offset 0x${loc.offset.toString(16)}`);
  if (loc.insn !== undefined) parts.push(`insn ${loc.insn}`);
  if (loc.path !== undefined) parts.push(loc.path);
  return parts.join(', ');
}

/** Base of every error the tool reports to the user as a message rather than a crash. */
export class XdpError extends Error {
  readonly location: Location;
  constructor(message: string, location: Location = {}) {
    const where = formatLocation(location);
    super(where ? `${where}: ${message}` : message);
    this.name = new.target.name;
    this.location = location;
  }
}

/** An object file (ELF, BTF, maps) is malformed or not what an XDP object must be. */
export class ObjectFormatError extends XdpError {}

/** An instruction cannot be decoded, encoded or assembled. */
export class InstructionError extends XdpError {}

/** Assembly source text could not be assembled. */
export class AsmError extends XdpError {
  readonly line: number;
  constructor(message: string, line: number, file?: string) {
    super(`line ${line}: ${message}`, file !== undefined ? { file } : {});
    this.line = line;
  }
}

/** The object is well formed but asks for something this tool refuses (another program type, say). */
export class UnsupportedError extends XdpError {}
