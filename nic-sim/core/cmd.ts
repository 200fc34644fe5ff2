/**
 * Memory commands (docs/nic-isa.md "Memory commands (CMD)"): the address from the A
 * and B operands by mode (32b: A + B mod 2³²; 40b_AB, 40b_BA), the length (the
 * instruction's, or from `prevResult` with `indirect_ref` and CMD_OVE_LEN), then
 * read32 / write32 / read8 / write8 / add32 / add64 between the named region and the
 * transfer registers, big-endian or `_swap` little-endian. The functional executor
 * completes the command when it is issued; the swap is only counted.
 */
import type { CmdInsn } from '../isa/instructions.js';
import {
  CMD_OVE_LEN, CMD_OV_LEN_MASK, CMD_OV_LEN_SHIFT, XFER_COUNT, type CmdAction, type CmdMode,
} from '../isa/tables.js';
import type { Exec } from './context.js';
import { xferWords } from '../isa/codec-cmd.js';
import { checkRange, getWord, putWord } from './memory.js';
import { readSrc } from './operands.js';

const ADDRESS: Readonly<Record<CmdMode, (a: number, b: number) => number>> = {
  addr32: (a, b) => (a + b) % 0x100000000,
  addr40_ab: (a, b) => (a & 0xff) * 0x100000000 + b,
  addr40_ba: (a, b) => (b & 0xff) * 0x100000000 + a,
};

/** The command's length in units (words or bytes). */
export function cmdLength(x: Exec, i: CmdInsn): number {
  const p = x.s.prevResult;
  return i.indirect && (p & CMD_OVE_LEN) !== 0 ? ((p >>> CMD_OV_LEN_SHIFT) & CMD_OV_LEN_MASK) + 1 : i.length;
}

interface Move {
  readonly m: Uint8Array;
  readonly addr: number;
  /** Units: words or bytes. */
  readonly n: number;
  readonly x0: number;
  readonly le: boolean;
}

/** Lane of byte j inside its transfer register: a shift from bit 0. */
const lane = (j: number, le: boolean): number => (le ? 8 * (j & 3) : 24 - 8 * (j & 3));

const ACTIONS: Readonly<Record<CmdAction, (x: Exec, mv: Move) => void>> = {
  read32(x, { m, addr, n, x0, le }) {
    for (let i = 0; i < n; i++) x.s.xferIn[x0 + i] = getWord(m, addr + 4 * i, le);
  },
  write32(x, { m, addr, n, x0, le }) {
    for (let i = 0; i < n; i++) putWord(m, addr + 4 * i, x.s.xferOut[x0 + i] as number, le);
  },
  read8(x, { m, addr, n, x0, le }) {
    x.s.xferIn.fill(0, x0, x0 + Math.ceil(n / 4));
    for (let j = 0; j < n; j++) {
      const r = x0 + (j >> 2);
      x.s.xferIn[r] = ((x.s.xferIn[r] as number) | ((m[addr + j] as number) << lane(j, le))) >>> 0;
    }
  },
  write8(x, { m, addr, n, x0, le }) {
    for (let j = 0; j < n; j++) m[addr + j] = ((x.s.xferOut[x0 + (j >> 2)] as number) >>> lane(j, le)) & 0xff;
  },
  add32(x, { m, addr, n, x0, le }) {
    for (let i = 0; i < n; i++) {
      const a = addr + 4 * i;
      putWord(m, a, (getWord(m, a, le) + (x.s.xferOut[x0 + i] as number)) >>> 0, le);
    }
  },
  add64(x, { m, addr, n, x0, le }) {
    for (let i = 0; i < n; i++) {
      // Low word first in memory when little-endian, high word first when big-endian.
      const lo = addr + 8 * i + (le ? 0 : 4), hi = addr + 8 * i + (le ? 4 : 0);
      const sumLo = getWord(m, lo, le) + (x.s.xferOut[x0 + 2 * i] as number);
      putWord(m, lo, sumLo >>> 0, le);
      putWord(m, hi, (getWord(m, hi, le) + (x.s.xferOut[x0 + 2 * i + 1] as number) + (sumLo > 0xffffffff ? 1 : 0)) >>> 0, le);
    }
  },
};

const isByteAction = (a: CmdAction): boolean => a === 'read8' || a === 'write8';

export function execCmd(x: Exec, i: CmdInsn): void {
  const addr = ADDRESS[i.mode](readSrc(x, i.a), readSrc(x, i.b));
  const n = cmdLength(x, i);
  const bytes = isByteAction(i.action);
  const regs = xferWords(i.action, n);
  if (i.xfer + regs > XFER_COUNT) {
    x.fail('memory', `$xfer_${i.xfer} + ${n} ${bytes ? 'bytes' : 'words'} runs past $xfer_${XFER_COUNT - 1}`);
  }
  const m = x.s.mem[i.target];
  checkRange(x, i.target, addr, bytes ? n : 4 * regs, m.length);
  ACTIONS[i.action](x, { m, addr, n, x0: i.xfer, le: i.byteSwap });
}
