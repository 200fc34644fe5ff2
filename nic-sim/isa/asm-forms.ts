/**
 * The assembler's forms: one handler per mnemonic, building the instruction its
 * arguments and options describe (docs/nic-isa.md "Assembler syntax").
 */
import { parseNumber, parseOperand, place, toDst, toReg, type WrittenOperand } from './asm-operands.js';
import { allowOptions, argCount, deferOf, flag, type Statement } from './asm-statement.js';
import type { Fail } from './errors.js';
import type { Insn } from './instructions.js';
import { NOP } from './instructions.js';
import {
  BR_BIT_MNEMONIC, BR_BYTE_MNEMONIC, CSR_MNEMONIC, LD_FIELD_MNEMONIC, MUL_MNEMONIC, NOP_MNEMONIC, OPT, RTN_MNEMONIC,
  parseMulStep, parseShift,
} from './syntax.js';
import {
  ALU_OP_TEXT, BR_MNEMONIC, CMD_ACTIONS, CMD_MODES, CMD_TARGETS, CSRS, IMMED_MNEMONIC, SHF_OP_TEXT, type AluOp,
  type BrCond, type CmdAction, type CsrName, type ImmedWidth, type MemTarget, type ShfOp,
} from './tables.js';

/** What a form needs besides its statement: the error reporter for its line, and the labels. */
export interface Ctx {
  readonly fail: Fail;
  readonly labels: ReadonlyMap<string, number>;
}

function targetOf(text: string, cx: Ctx): number {
  const t = text.trim();
  const m = /^\.(\d+)$/.exec(t);
  if (m) return Number(m[1]);
  const at = cx.labels.get(t);
  if (at === undefined) return cx.fail(`unknown label "${t}"`);
  return at;
}

function lookup<N extends string>(table: Readonly<Record<N, string>>, text: string, what: string, fail: Fail): N {
  const t = text.trim().toUpperCase();
  for (const [name, spelled] of Object.entries(table) as [N, string][]) if (spelled.toUpperCase() === t) return name;
  return fail(`"${text}" is not ${what} (${Object.values(table).join(' ')})`);
}

const operand = (st: Statement, i: number, fail: Fail): WrittenOperand => parseOperand(st.args[i] as string, fail);

export type Handler = (st: Statement, cx: Ctx) => Insn;

const alu: Handler = (st, { fail }) => {
  argCount(st, 4, 4, 'alu[dst, left, op, right]', fail);
  allowOptions(st, [OPT.swap], fail);
  const op = lookup<AluOp>(ALU_OP_TEXT, st.args[2] as string, 'an ALU operation', fail);
  const p = place(operand(st, 1, fail), operand(st, 3, fail), flag(st, OPT.swap, fail), fail);
  return { cls: 'alu', op, dst: toDst(operand(st, 0, fail), fail), ...p };
};

const aluShf: Handler = (st, { fail }) => {
  argCount(st, 4, 5, 'alu_shf[dst, left, op, right] or alu_shf[dst, left, op, right, shift]', fail);
  allowOptions(st, [OPT.swap], fail);
  const op = lookup<ShfOp>(SHF_OP_TEXT, st.args[2] as string, 'an ALU_SHF operation', fail);
  const shift = st.args.length === 5 ? parseShift(st.args[4] as string) : { sc: 'rot' as const, amount: 0 };
  if (shift === undefined) return fail(`"${st.args[4]}" is not a shift (<<n, >>n, >>rot n, >>dbl n, n or indirect)`);
  const p = place(operand(st, 1, fail), operand(st, 3, fail), flag(st, OPT.swap, fail), fail);
  return { cls: 'alu_shf', op, dst: toDst(operand(st, 0, fail), fail), ...p, sc: shift.sc, shift: shift.amount };
};

const ldField =
  (zero: boolean): Handler =>
  (st, { fail }) => {
    argCount(st, 3, 4, `${st.mnemonic}[dst, bytemask, src] or ${st.mnemonic}[dst, bytemask, src, shift]`, fail);
    allowOptions(st, [OPT.swap], fail);
    const mask = (st.args[1] as string).trim();
    if (!/^[01]{4}$/.test(mask)) fail(`byte mask "${mask}" must be four binary digits (byte 3 first), e.g. 0011`);
    const shift = st.args.length === 4 ? parseShift(st.args[3] as string) : { sc: 'rot' as const, amount: 0 };
    if (shift === undefined) return fail(`"${st.args[3]}" is not a shift (<<n, >>n, >>rot n)`);
    if (shift.sc === 'dshr') return fail('ld_field has no double shift');
    if (shift.amount === 'indirect') return fail('ld_field has no indirect shift');
    const dst = operand(st, 0, fail);
    if (dst.k === 'unused') fail('ld_field writes its first operand: it cannot be --');
    const p = place(dst, operand(st, 2, fail), flag(st, OPT.swap, fail), fail, true);
    return {
      cls: 'ld_field', ...p, wrBoth: dst.k === 'gpr' && dst.bank === 'ab', byteMask: parseInt(mask, 2), zero,
      sc: shift.sc, shift: shift.amount,
    };
  };

const immed =
  (width: ImmedWidth): Handler =>
  (st, { fail }) => {
    argCount(st, 2, 3, `${st.mnemonic}[dst, value] or ${st.mnemonic}[dst, value, <<8|<<16]`, fail);
    allowOptions(st, [], fail);
    let text = (st.args[1] as string).trim();
    const invert = text.startsWith('~');
    if (invert) text = text.slice(1);
    let shift = 0;
    if (st.args.length === 3) {
      const m = /^<<\s*(\d+)$/.exec((st.args[2] as string).trim());
      const bits = m ? Number(m[1]) : -1;
      if (bits !== 0 && bits !== 8 && bits !== 16) fail(`immed shift "${st.args[2]}" must be <<0, <<8 or <<16`);
      shift = bits / 8;
    }
    return { cls: 'immed', dst: toDst(operand(st, 0, fail), fail), value: parseNumber(text, 'immed value', fail), width, invert, shift };
  };

const nop: Handler = (st, { fail }) => {
  argCount(st, 0, 0, 'no operands', fail);
  allowOptions(st, [], fail);
  return NOP;
};

const br =
  (cond: BrCond): Handler =>
  (st, cx) => {
    argCount(st, 1, 1, `${st.mnemonic}[target]`, cx.fail);
    allowOptions(st, [OPT.defer], cx.fail);
    return { cls: 'br', cond, target: targetOf(st.args[0] as string, cx), defer: deferOf(st, cx.fail) };
  };

const brByte =
  (equal: boolean): Handler =>
  (st, cx) => {
    const { fail } = cx;
    argCount(st, 4, 4, `${st.mnemonic}[register, byte, value, target]`, fail);
    allowOptions(st, [OPT.defer], fail);
    return {
      cls: 'br_byte', equal, src: toReg(operand(st, 0, fail), fail), byte: parseNumber(st.args[1] as string, 'byte', fail),
      value: parseNumber(st.args[2] as string, 'compare value', fail), target: targetOf(st.args[3] as string, cx),
      defer: deferOf(st, fail),
    };
  };

const brBit =
  (set: boolean): Handler =>
  (st, cx) => {
    const { fail } = cx;
    argCount(st, 3, 3, `${st.mnemonic}[register, bit, target]`, fail);
    allowOptions(st, [OPT.defer], fail);
    return {
      cls: 'br_bit', set, src: toReg(operand(st, 0, fail), fail), bit: parseNumber(st.args[1] as string, 'bit', fail),
      target: targetOf(st.args[2] as string, cx), defer: deferOf(st, fail),
    };
  };

const rtn: Handler = (st, { fail }) => {
  argCount(st, 1, 1, 'rtn[register]', fail);
  allowOptions(st, [OPT.defer], fail);
  return { cls: 'br_alu', src: toReg(operand(st, 0, fail), fail), defer: deferOf(st, fail) };
};

const cmd =
  (target: MemTarget): Handler =>
  (st, { fail }) => {
    argCount(st, 5, 5, `${st.mnemonic}[action, $xfer_n, a, b, length]`, fail);
    allowOptions(st, [OPT.ctxSwap, OPT.defer, OPT.indirect, ...CMD_MODES.names], fail);
    const am = /^([a-z0-9]+?)(_swap)?$/i.exec((st.args[0] as string).trim());
    const action = am ? CMD_ACTIONS.names.find((n) => n === (am[1] as string).toLowerCase()) : undefined;
    if (!am || action === undefined) {
      return fail(`"${st.args[0]}" is not a command action (${CMD_ACTIONS.names.join(', ')}, each optionally _swap)`);
    }
    const x = parseOperand(st.args[1] as string, fail);
    if (x.k !== 'xfer') return fail(`the second operand of a command is a transfer register, not "${st.args[1]}"`);
    const a = place(operand(st, 2, fail), operand(st, 3, fail), false, fail);
    if (a.swap) fail('a command cannot swap its address operands: the first is read from the A field, the second from B');
    let sig = 0;
    const sigText = st.options.get(OPT.ctxSwap);
    if (st.options.has(OPT.ctxSwap)) {
      const m = /^sig(\d+)$/i.exec(sigText ?? '');
      if (!m) fail('ctx_swap needs a signal: ctx_swap[sigN]');
      sig = Number((m as RegExpExecArray)[1]);
    }
    const modes = CMD_MODES.names.filter((n) => st.options.has(n));
    if (modes.length > 1) fail(`more than one address mode: ${modes.join(', ')}`);
    for (const m of modes) flag(st, m, fail);
    return {
      cls: 'cmd', target, action: action as CmdAction, byteSwap: am[2] !== undefined, xfer: x.n,
      length: parseNumber(st.args[4] as string, 'length', fail), a: a.a, b: a.b, ctxSwap: st.options.has(OPT.ctxSwap),
      defer: deferOf(st, fail), sig, mode: modes[0] ?? 'addr32', indirect: flag(st, OPT.indirect, fail),
    };
  };

function csrOf(text: string, fail: Fail): CsrName {
  const t = text.trim().toUpperCase();
  const name = CSRS.names.find((n) => n === t);
  return name ?? fail(`"${text}" is not a CSR (${CSRS.names.join(', ')})`);
}

const csrWr: Handler = (st, { fail }) => {
  argCount(st, 2, 2, 'local_csr_wr[CSR, value]', fail);
  allowOptions(st, [], fail);
  return { cls: 'local_csr', write: true, csr: csrOf(st.args[0] as string, fail), src: toReg(operand(st, 1, fail), fail, true) };
};

const csrRd: Handler = (st, { fail }) => {
  argCount(st, 1, 1, 'local_csr_rd[CSR]', fail);
  allowOptions(st, [], fail);
  return { cls: 'local_csr', write: false, csr: csrOf(st.args[0] as string, fail) };
};

const mulStep: Handler = (st, { fail }) => {
  argCount(st, 2, 2, 'mul_step[left, right], step or mul_step[dst, --], size_last', fail);
  const steps = [...st.options.keys()].filter((k) => k !== OPT.swap);
  if (steps.length !== 1) return fail('mul_step needs exactly one step option (start, 32x32_step1, ..., 32x32_last, 32x32_last2)');
  const step = parseMulStep(steps[0] as string);
  if (step === undefined) return fail(`"${steps[0]}" is not a multiply step`);
  flag(st, steps[0] as string, fail);
  if (step.step === 'last' || step.step === 'last2') {
    if (st.options.has(OPT.swap)) fail('a last step has no operands to swap');
    if (operand(st, 1, fail).k !== 'unused') fail('a last step reads nothing: its second operand is --');
    return { cls: 'mul', step: step.step, size: step.size, dst: toDst(operand(st, 0, fail), fail) };
  }
  const p = place(operand(st, 0, fail), operand(st, 1, fail), flag(st, OPT.swap, fail), fail);
  return step.step === 'start' ? { cls: 'mul', step: 'start', ...p } : { cls: 'mul', step: step.step, size: step.size, ...p };
};

/** Every mnemonic the assembler knows. */
export function forms(): ReadonlyMap<string, Handler> {
  const h = new Map<string, Handler>([
    ['alu', alu],
    ['alu_shf', aluShf],
    [LD_FIELD_MNEMONIC.keep, ldField(false)],
    [LD_FIELD_MNEMONIC.zero, ldField(true)],
    [NOP_MNEMONIC, nop],
    [BR_BYTE_MNEMONIC.equal, brByte(true)],
    [BR_BYTE_MNEMONIC.notEqual, brByte(false)],
    [BR_BIT_MNEMONIC.set, brBit(true)],
    [BR_BIT_MNEMONIC.clear, brBit(false)],
    [RTN_MNEMONIC, rtn],
    [CSR_MNEMONIC.write, csrWr],
    [CSR_MNEMONIC.read, csrRd],
    [MUL_MNEMONIC, mulStep],
  ]);
  for (const [width, m] of Object.entries(IMMED_MNEMONIC) as [ImmedWidth, string][]) h.set(m, immed(width));
  for (const [cond, m] of Object.entries(BR_MNEMONIC) as [BrCond, string][]) h.set(m, br(cond));
  for (const t of CMD_TARGETS.names) h.set(t, cmd(t));
  return h;
}
