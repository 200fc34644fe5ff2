/**
 * Where the tool writes, checked before anything is written: an output
 * directory made one component at a time (`mkdir -p` that cannot loop: Node's
 * recursive mkdir spins forever on a path under /proc), and an output file
 * opened once to prove it can be written. Every failure is an OutputError that
 * names the path and what is wrong with it.
 */
import { closeSync, mkdirSync, openSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { XdpError } from '../errors.js';

/** A path the tool was asked to write cannot be written. */
export class OutputError extends XdpError {}

const reason = (e: unknown): string => {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'EROFS': return 'read-only file system';
    case 'ENOENT': return 'cannot be created here (no such directory, or a file system that makes none)';
    case 'ENOTDIR': return 'a component of the path is not a directory';
    case 'EISDIR': return 'is a directory';
    case 'ENOSPC': return 'no space left on the device';
    case 'ENAMETOOLONG': return 'name too long';
    default: return code ?? (e as Error).message;
  }
};

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new OutputError(reason(e), { file: path });
  }
}

/** Make directory `path` and the missing ones above it; an existing directory is fine. */
export function makeOutputDir(path: string): void {
  const full = resolve(path);
  const parts = full.split(sep).filter((p) => p !== '');
  let at: string = sep;
  for (const part of parts) {
    at = at === sep ? `${sep}${part}` : `${at}${sep}${part}`;
    const st = statOrUndefined(at);
    if (st) {
      if (!st.isDirectory()) throw new OutputError(`${at === full ? '' : `${at} `}exists and is not a directory`, { file: path });
      continue;
    }
    try {
      mkdirSync(at);
    } catch (e) {
      throw new OutputError(`cannot create directory ${at}: ${reason(e)}`, { file: path });
    }
    if (!statOrUndefined(at)?.isDirectory()) throw new OutputError(`cannot create directory ${at}: it did not appear`, { file: path });
  }
}

/**
 * Prove that file `path` can be written, before the work that fills it: it is opened for appending
 * (so nothing in it is lost) and closed; a file this check created is removed again.
 */
export function checkOutputFile(path: string): void {
  const st = statOrUndefined(path);
  if (st?.isDirectory()) throw new OutputError('is a directory', { file: path });
  const parent = statOrUndefined(dirname(resolve(path)));
  if (!parent) throw new OutputError(`its directory ${dirname(resolve(path))} does not exist`, { file: path });
  if (!parent.isDirectory()) throw new OutputError(`${dirname(resolve(path))} is not a directory`, { file: path });
  let fd: number;
  try {
    fd = openSync(path, 'a');
  } catch (e) {
    throw new OutputError(`cannot be written: ${reason(e)}`, { file: path });
  }
  closeSync(fd);
  if (!st) {
    try {
      unlinkSync(path);
    } catch {
      // A file system that let us create it but not remove it: the empty file stays.
    }
  }
}

/** Write file `path` whole; a failure is an OutputError naming it. */
export function writeOutputFile(path: string, data: string | Uint8Array): void {
  // A regular file is written beside itself and renamed into place, so that a write that fails
  // half way (a full disk) never leaves a file that looks complete; a device or pipe is written as is.
  let special = false;
  try {
    special = !statSync(path).isFile();
  } catch {
    // absent: a new regular file
  }
  const tmp = special ? path : join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, data);
    if (tmp !== path) renameSync(tmp, path);
  } catch (e) {
    if (tmp !== path) rmSync(tmp, { force: true });
    throw writeFailure(path, e);
  }
}

/** A write to `path` failed with `e` (an errno error such as ENOSPC): the error to report; anything else is rethrown. */
export function writeFailure(path: string, e: unknown): OutputError {
  if (typeof (e as NodeJS.ErrnoException).code !== 'string') throw e;
  return new OutputError(`cannot be written: ${reason(e)}`, { file: path });
}
