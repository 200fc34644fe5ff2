/** Where a command writes: the process's streams in use, strings in tests. */
export interface Io {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown; isTTY?: boolean };
}
