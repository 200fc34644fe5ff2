import { XdpError } from '../../xdp/errors.js';

/** A command-line option with a value the command cannot use. */
export class UsageError extends XdpError {}

/** Where a command writes: the process's streams in use, strings in tests. */
export interface Io {
  stdout: { write(s: string): unknown; isTTY?: boolean };
  stderr: { write(s: string): unknown; isTTY?: boolean };
}

/**
 * Colour for a terminal: only when stdout is one and NO_COLOR is unset (no-color.org), never into a
 * pipe or a file.
 */
export function useColour(io: Io, env: NodeJS.ProcessEnv = process.env): boolean {
  return io.stdout.isTTY === true && (env.NO_COLOR === undefined || env.NO_COLOR === '');
}
