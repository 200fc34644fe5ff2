import { XdpError } from '../../xdp/errors.js';

/** A command-line option with a value the command cannot use. */
export class UsageError extends XdpError {}

/** Where a command writes: the process's streams in use, strings in tests. */
export interface Io {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown; isTTY?: boolean };
}
