/**
 * What the kernel said no with: the bpf() command, errno and its name, and for
 * BPF_PROG_LOAD / BPF_BTF_LOAD the verifier's log.
 */
import { XdpError, type Location } from '../errors.js';

/**
 * Linux errno numbers (include/uapi/asm-generic/errno-base.h and errno.h, the
 * numbering x86-64 and arm64 share), the ones bpf() is documented or seen to
 * return. ENOTSUPP (524) is kernel-internal (include/linux/errno.h) but leaks
 * out of bpf() for some unsupported operations.
 */
const ERRNO_NAMES: Readonly<Record<number, string>> = {
  1: 'EPERM', 2: 'ENOENT', 3: 'ESRCH', 4: 'EINTR', 5: 'EIO', 6: 'ENXIO', 7: 'E2BIG', 8: 'ENOEXEC', 9: 'EBADF',
  10: 'ECHILD', 11: 'EAGAIN', 12: 'ENOMEM', 13: 'EACCES', 14: 'EFAULT', 16: 'EBUSY', 17: 'EEXIST', 18: 'EXDEV',
  19: 'ENODEV', 20: 'ENOTDIR', 21: 'EISDIR', 22: 'EINVAL', 23: 'ENFILE', 24: 'EMFILE', 25: 'ENOTTY', 27: 'EFBIG',
  28: 'ENOSPC', 30: 'EROFS', 34: 'ERANGE', 35: 'EDEADLK', 36: 'ENAMETOOLONG', 38: 'ENOSYS', 39: 'ENOTEMPTY',
  40: 'ELOOP', 61: 'ENODATA', 62: 'ETIME', 71: 'EPROTO', 74: 'EBADMSG', 75: 'EOVERFLOW', 84: 'EILSEQ', 88: 'ENOTSOCK',
  77: 'EBADFD', 90: 'EMSGSIZE', 95: 'EOPNOTSUPP', 97: 'EAFNOSUPPORT', 105: 'ENOBUFS', 110: 'ETIMEDOUT', 114: 'EALREADY',
  115: 'EINPROGRESS', 125: 'ECANCELED', 524: 'ENOTSUPP',
};

export const ERRNO = Object.fromEntries(Object.entries(ERRNO_NAMES).map(([n, name]) => [name, Number(n)])) as Readonly<
  Record<string, number>
>;

export function errnoName(errno: number): string {
  return ERRNO_NAMES[errno] ?? `errno ${errno}`;
}

export interface KernelErrorDetails {
  /** The bpf() command, e.g. 'BPF_PROG_LOAD'. */
  readonly command: string;
  readonly errno: number;
  /** What was being done, e.g. "creating map 'fw_rules'". */
  readonly what?: string;
  /** The verifier's (or BTF checker's) log, when the command produces one. */
  readonly log?: string;
  readonly location?: Location;
}

/** The last lines of a verifier log that say why, for the one-line message. */
function logSummary(log: string): string {
  const lines = log.trimEnd().split('\n').filter((l) => l.trim() !== '');
  const tail = lines.filter((l) => !/^processed \d+ insns/.test(l) && !/^verification time/.test(l) && !/^stack depth/.test(l));
  return (tail.length > 0 ? tail : lines).slice(-2).join(' / ');
}

export class KernelError extends XdpError {
  readonly command: string;
  readonly errno: number;
  readonly errnoName: string;
  /** The verifier log (BPF_PROG_LOAD) or BTF log (BPF_BTF_LOAD), '' when there is none. */
  readonly log: string;

  constructor(d: KernelErrorDetails) {
    const name = errnoName(d.errno);
    const summary = d.log ? logSummary(d.log) : '';
    super(
      `${d.command}${d.what ? ` (${d.what})` : ''} failed: ${name}${summary ? `: ${summary}` : ''}`,
      d.location ?? {},
    );
    this.command = d.command;
    this.errno = d.errno;
    this.errnoName = name;
    this.log = d.log ?? '';
  }

  /** The verifier log of a refused BPF_PROG_LOAD (same as `log`). */
  get verifierLog(): string {
    return this.log;
  }
}
