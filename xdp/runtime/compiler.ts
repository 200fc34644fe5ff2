/**
 * The compiling engine: each BPF function of a prepared program becomes one
 * JavaScript function (built with `new Function` from text this module
 * writes), registers become local int32 variables — r<n> is the pair
 * (Ln, Hn) — basic blocks become `case`s of a `switch` inside a loop, so a
 * jump is `pc = target; continue`, and V8 turns the result into machine code.
 *
 * The generated text contains only numbers and names made here: instruction
 * fields are integers, and nothing read from an object file (symbol, section
 * or map names) is ever pasted into it. Map pointers, helpers and the slow
 * paths are reached through the arrays passed in as arguments.
 *
 * Semantics are those of the interpreter (interpreter.ts), which the tests hold
 * it to; the instruction budget is charged per basic block.
 */
import { HelperId } from '../helpers/helper-registry.js';
import { blockCost, blockStarts } from './blocks.js';
import type { InsnKind } from '../isa/kind.js';
import * as alu from './alu64.js';
import { atomicOp } from './atomic.js';
import { ctxRegisterMasks, written, type CtxMasks } from './ctx-regs.js';
import type { ExecProgram } from './exec-program.js';
import { readMem, writeMem } from './mem-access.js';
import { RegionKind } from './memory.js';
import { ExecFault, MAX_BPF_STACK, MAX_CALL_FRAMES, budgetExhausted, faultAt, missingHelper, type Vm } from './vm.js';
import { kfuncOnHostMessage } from './kernel-only.js';

/** A compiled program: run it with the registers set in vm.regs (r1 at least). */
export type CompiledProgram = (vm: Vm) => void;

/**
 * Where a plain array map keeps its values, for inlining bpf_map_lookup_elem the way the kernel's
 * JIT inlines array lookups: value i is at (region, i * stride) for i < maxEntries.
 */
export interface InlineArray {
  readonly region: number;
  readonly stride: number;
  readonly maxEntries: number;
}

export interface CompileOptions {
  /** The inline layout of map `index`, or undefined when its lookups must go through the helper. */
  readonly inlineArray?: (index: number) => InlineArray | undefined;
}

const ALU64_CALL: Partial<Record<string, string>> = {
  mul: 'A.mul64', div: 'A.udiv64', sdiv: 'A.sdiv64', mod: 'A.umod64', smod: 'A.smod64',
};
const SHIFT64: Partial<Record<string, string>> = { lsh: 'A.lsh64', rsh: 'A.rsh64', arsh: 'A.arsh64' };
const ALU32_CALL: Partial<Record<string, string>> = {
  div: 'A.udiv32', sdiv: 'A.sdiv32', mod: 'A.umod32', smod: 'A.smod32',
};
const CMP32: Record<string, [string, boolean]> = {
  jeq: ['===', false], jne: ['!==', false], jgt: ['>', true], jge: ['>=', true], jlt: ['<', true], jle: ['<=', true],
  jsgt: ['>', false], jsge: ['>=', false], jslt: ['<', false], jsle: ['<=', false],
};

/** Slots that start a basic block inside [start, end): the entry, jump targets, and slots after jumps/calls/exits. */
const L = (r: number) => `L${r}`;
const H = (r: number) => `H${r}`;

function emitAlu(k: Extract<InsnKind, { k: 'alu' }>, d: number, s: number, imm: number): string {
  const bl = k.useReg ? L(s) : String(imm);
  const bh = k.useReg ? H(s) : String(imm >> 31);
  const dl = L(d);
  const dh = H(d);
  if (k.width === 32) {
    const set = (e: string) => `${dl} = ${e}; ${dh} = 0;`;
    switch (k.op) {
      case 'add': return set(`(${dl} + ${bl}) | 0`);
      case 'sub': return set(`(${dl} - ${bl}) | 0`);
      case 'mul': return set(`Math.imul(${dl}, ${bl})`);
      case 'or': return set(`${dl} | ${bl}`);
      case 'and': return set(`${dl} & ${bl}`);
      case 'xor': return set(`${dl} ^ ${bl}`);
      case 'lsh': return set(`${dl} << (${bl} & 31)`);
      case 'rsh': return set(`${dl} >>> (${bl} & 31) | 0`);
      case 'arsh': return set(`${dl} >> (${bl} & 31)`);
      case 'neg': return set(`-${dl} | 0`);
      case 'mov': return set(bl);
      case 'movsx': return set(k.fromBits === 8 ? `(${L(s)} << 24) >> 24` : `(${L(s)} << 16) >> 16`);
      default: return set(`${ALU32_CALL[k.op]}(${dl}, ${bl})`);
    }
  }
  switch (k.op) {
    case 'add':
      if (!k.useReg && imm >= 0) return `T = (${dl} + ${imm}) | 0; if ((T >>> 0) < (${dl} >>> 0)) ${dh} = (${dh} + 1) | 0; ${dl} = T;`;
      return `T = (${dl} + ${bl}) | 0; ${dh} = (${dh} + ${bh} + ((${dl} >>> 0) + (${bl} >>> 0) > 4294967295 ? 1 : 0)) | 0; ${dl} = T;`;
    case 'sub':
      return `T = (${dl} - ${bl}) | 0; ${dh} = (${dh} - ${bh} - ((${dl} >>> 0) < (${bl} >>> 0) ? 1 : 0)) | 0; ${dl} = T;`;
    case 'or': return `${dl} |= ${bl}; ${dh} |= ${bh};`;
    case 'and': return `${dl} &= ${bl}; ${dh} &= ${bh};`;
    case 'xor': return `${dl} ^= ${bl}; ${dh} ^= ${bh};`;
    case 'mov': return `${dl} = ${bl}; ${dh} = ${bh};`;
    case 'neg': return `T = -${dl} | 0; ${dh} = (~${dh} + (${dl} === 0 ? 1 : 0)) | 0; ${dl} = T;`;
    case 'movsx': {
      const v = k.fromBits === 8 ? `(${L(s)} << 24) >> 24` : k.fromBits === 16 ? `(${L(s)} << 16) >> 16` : L(s);
      return `${dl} = ${v}; ${dh} = ${dl} >> 31;`;
    }
    case 'lsh': case 'rsh': case 'arsh':
      if (!k.useReg) {
        const n = imm & 63;
        if (n === 0) return '';
        if (k.op === 'lsh') return n < 32 ? `${dh} = (${dh} << ${n}) | (${dl} >>> ${32 - n}); ${dl} = ${dl} << ${n};` : `${dh} = ${dl} << ${n - 32}; ${dl} = 0;`;
        if (k.op === 'rsh') return n < 32 ? `${dl} = (${dl} >>> ${n}) | (${dh} << ${32 - n}); ${dh} = ${dh} >>> ${n} | 0;` : `${dl} = ${dh} >>> ${n - 32} | 0; ${dh} = 0;`;
        return n < 32 ? `${dl} = (${dl} >>> ${n}) | (${dh} << ${32 - n}); ${dh} = ${dh} >> ${n};` : `${dl} = ${dh} >> ${n - 32}; ${dh} = ${dh} >> 31;`;
      }
      return `${SHIFT64[k.op]}(${dl}, ${dh}, ${bl}, O); ${dl} = O[0]; ${dh} = O[1];`;
    default:
      return `${ALU64_CALL[k.op]}(${dl}, ${dh}, ${bl}, ${bh}, O); ${dl} = O[0]; ${dh} = O[1];`;
  }
}

function emitCond(k: Extract<InsnKind, { k: 'jcond' }>, d: number, s: number, imm: number): string {
  const bl = k.useReg ? L(s) : String(imm);
  const bh = k.useReg ? H(s) : String(imm >> 31);
  const al = L(d);
  const ah = H(d);
  if (k.op === 'jset') return k.width === 32 ? `(${al} & ${bl}) !== 0` : `((${al} & ${bl}) | (${ah} & ${bh})) !== 0`;
  const [op, unsigned] = CMP32[k.op]!;
  if (k.width === 32) return unsigned ? `(${al} >>> 0) ${op} (${bl} >>> 0)` : `${al} ${op} ${bl}`;
  if (k.op === 'jeq') return `${al} === ${bl} && ${ah} === ${bh}`;
  if (k.op === 'jne') return `(${al} !== ${bl} || ${ah} !== ${bh})`;
  // Compare the high words (signed or unsigned), and on a tie the low words unsigned.
  const strict = op.replace('=', '');
  const hiA = unsigned ? `(${ah} >>> 0)` : ah;
  const hiB = unsigned ? `(${bh} >>> 0)` : bh;
  return `(${hiA} ${strict} ${hiB} || (${ah} === ${bh} && (${al} >>> 0) ${op} (${bl} >>> 0)))`;
}

const STACK_BYTES = MAX_BPF_STACK * MAX_CALL_FRAMES;

const READ: Record<number, string> = { 1: 'getUint8(o)', 2: 'getUint16(o, true)', 4: 'getInt32(o, true)' };
const READ_SIGNED: Record<number, string> = { 1: 'getInt8(o)', 2: 'getInt16(o, true)', 4: 'getInt32(o, true)' };
const WRITE: Record<number, (v: string) => string> = {
  1: (v) => `setUint8(o, ${v} & 255)`, 2: (v) => `setUint16(o, ${v} & 65535, true)`, 4: (v) => `setInt32(o, ${v}, true)`,
};

/** Direct reads of xdp_md fields when the base register is known to be the context (XdpMd offsets). */
const CTX_FIELD: Readonly<Record<number, [string, string]>> = {
  0: ['X.data', 'X.packet.id'], 4: ['X.packet.hi', 'X.packet.id'], 8: ['X.packet.lo', 'X.packet.id'],
  12: ['X.ingressIfindex', '0'], 16: ['X.rxQueueIndex', '0'], 20: ['X.egressIfindex', '0'],
};

function emitLoad(k: Extract<InsnKind, { k: 'ldx' }>, d: number, s: number, off: number, slot: number, ctxBase: boolean): string {
  const n = k.size;
  const field = CTX_FIELD[off];
  if (ctxBase && n === 4 && !k.signed && field) {
    return `if (CTXOK) { ${L(d)} = ${field[0]}; ${H(d)} = ${field[1]}; } else { ${emitLoad(k, d, s, off, slot, false)} }`;
  }
  const read = (view: string) => n === 8
    ? `${L(d)} = ${view}.getInt32(o, true); ${H(d)} = ${view}.getInt32(o + 4, true);`
    : `${L(d)} = ${view}.${(k.signed ? READ_SIGNED : READ)[n]}; ${H(d)} = ${k.signed ? `${L(d)} >> 31` : '0'};`;
  const slow = `M.readMem(vm, ${H(s)}, o, ${n}, ${k.signed}, O, ${slot}); ${L(d)} = O[0]; ${H(d)} = O[1];`;
  // The stack and the packet are checked against their own bounds; any other region is looked up.
  if (s === 10) return `o = (L10 + ${off}) | 0; if (o >= 0 && o + ${n} <= ${STACK_BYTES}) { ${read('SV')} } else { ${slow} }`;
  return `o = (${L(s)} + ${off}) | 0; ` +
    `if (${H(s)} === PKID && o >= PK.lo && o + ${n} <= PK.hi) { ${read('PKV')} } ` +
    `else { g = RG[${H(s)}]; if (g !== undefined && o >= g.lo && o + ${n} <= g.hi && g.kind !== ${RegionKind.CTX}) { ${read('g.view')} } else { ${slow} } }`;
}

function emitStore(size: number, d: number, off: number, lo: string, hi: string, slot: number): string {
  const write = (view: string) => size === 8
    ? `${view}.setInt32(o, ${lo}, true); ${view}.setInt32(o + 4, ${hi}, true);`
    : `${view}.${WRITE[size]!(lo)};`;
  const slow = `M.writeMem(vm, ${H(d)}, o, ${size}, ${lo}, ${hi}, ${slot});`;
  if (d === 10) return `o = (L10 + ${off}) | 0; if (o >= 0 && o + ${size} <= ${STACK_BYTES}) { ${write('SV')} } else { ${slow} }`;
  return `o = (${L(d)} + ${off}) | 0; ` +
    `if (${H(d)} === PKID && o >= PK.lo && o + ${size} <= PK.hi) { ${write('PKV')} } ` +
    `else { g = RG[${H(d)}]; if (g !== undefined && g.writable && o >= g.lo && o + ${size} <= g.hi) { ${write('g.view')} } else { ${slow} } }`;
}

/** `lock *(u32|u64 *)(rd + off) += rs`, inline when the target is plain writable memory. */
function emitAtomicAdd(size: 4 | 8, d: number, s: number, off: number, slot: number): string {
  const fast = size === 4
    ? `g.view.setInt32(o, (g.view.getInt32(o, true) + ${L(s)}) | 0, true);`
    : `T = g.view.getInt32(o, true); g.view.setInt32(o, (T + ${L(s)}) | 0, true); ` +
      `g.view.setInt32(o + 4, (g.view.getInt32(o + 4, true) + ${H(s)} + ((T >>> 0) + (${L(s)} >>> 0) > 4294967295 ? 1 : 0)) | 0, true);`;
  return `o = (${L(d)} + ${off}) | 0; g = RG[${H(d)}]; ` +
    `if (g !== undefined && g.writable && g.kind !== ${RegionKind.CTX} && o >= g.lo && o + ${size} <= g.hi) { ${fast} } ` +
    `else { ${spill([0, d, s])} M.atomic(vm, "add", false, ${size}, ${2 * d}, ${2 * s}, ${off}, ${slot}); }`;
}

/** Spill r0..r10 into vm.regs, for helpers and slow paths that read them. */
const spill = (regs: number[]) => regs.map((r) => `R[${2 * r}] = ${L(r)}; R[${2 * r + 1}] = ${H(r)};`).join(' ');

function emitInsn(p: ExecProgram, slot: number, ctx: CtxMasks | undefined, r1Map: InlineArray | undefined): string {
  const k = p.kinds[slot]!;
  const d = p.dst[slot]!;
  const s = p.src[slot]!;
  const off = p.off[slot]!;
  const imm = p.imm[slot]!;
  const fault = (msg: string) => `throw F(${JSON.stringify(msg)}, ${slot});`;
  if (d > 10 || s > 10) return fault(`register r${Math.max(d, s)} does not exist`);
  switch (k.k) {
    case 'alu': return emitAlu(k, d, s, imm);
    case 'end':
      return `${k.order === 'le' ? 'A.truncate' : 'A.bswap'}(${L(d)}, ${H(d)}, ${k.bits}, O); ${L(d)} = O[0]; ${H(d)} = O[1];`;
    case 'ja': return `pc = ${slot + (k.long ? imm : off) + 1}; continue;`;
    case 'jcond': return `if (${emitCond(k, d, s, imm)}) { pc = ${slot + off + 1}; continue; }`;
    case 'maygoto': return `if (vm.mayGoto === 0) { pc = ${slot + off + 1}; continue; } vm.mayGoto--;`;
    case 'lddw': return `${L(d)} = ${imm}; ${H(d)} = ${p.imm2[slot]};`;
    case 'ldx': return emitLoad(k, d, s, off, slot, ctx !== undefined && ctx[slot]! !== -1 && ((ctx[slot]! >> s) & 1) === 1);
    case 'st': return emitStore(k.size, d, off, String(imm), String(imm >> 31), slot);
    case 'stx': return emitStore(k.size, d, off, L(s), H(s), slot);
    case 'atomic':
      if (k.op === 'add' && !k.fetch) return emitAtomicAdd(k.size, d, s, off, slot);
      return `${spill([0, d, s])} M.atomic(vm, ${JSON.stringify(k.op)}, ${k.fetch}, ${k.size}, ${2 * d}, ${2 * s}, ${off}, ${slot}); ` +
        `${L(0)} = R[0]; ${H(0)} = R[1]; ${L(s)} = R[${2 * s}]; ${H(s)} = R[${2 * s + 1}];`;
    case 'call': {
      if (k.target === 'helper') {
        const call = `if (HF[${imm}] === undefined) throw M.noHelper(${imm}, ${slot}); ` +
          `${spill([1, 2, 3, 4, 5])} M.call(vm, ${imm}, ${slot}); ${L(0)} = R[0]; ${H(0)} = R[1]; if (vm.tailCall !== undefined) { vm.budget = BU; return; }`;
        if (imm !== HelperId.MAP_LOOKUP_ELEM || !r1Map) return call;
        // bpf_map_lookup_elem on a plain array: the u32 key, a bounds check, the value's address.
        return `o = L2; g = RG[H2]; if (g !== undefined && o >= g.lo && o + 4 <= g.hi && g.kind !== ${RegionKind.CTX}) { ` +
          `T = g.view.getUint32(o, true); if (T < ${r1Map.maxEntries}) { L0 = T * ${r1Map.stride}; H0 = ${r1Map.region}; } else { L0 = 0; H0 = 0; } ` +
          `} else { ${call} }`;
      }
      if (k.target === 'local') {
        const target = p.funcStarts.indexOf(slot + imm + 1);
        if (target < 0) return fault('call target is not the start of a function');
        return `if (depth + 1 >= ${MAX_CALL_FRAMES}) ${fault(`call depth exceeds ${MAX_CALL_FRAMES} frames`)} ` +
          `vm.budget = BU; FN[${target}](vm, ${[1, 2, 3, 4, 5].map((r) => `${L(r)}, ${H(r)}`).join(', ')}, depth + 1); ` +
          `${L(0)} = R[0]; ${H(0)} = R[1]; BU = vm.budget; if (vm.tailCall !== undefined) return;`;
      }
      // A kfunc's name comes from the object: the generated code names it by index only (M.kfunc).
      return k.target === 'kfunc' ? `throw M.kfunc(${imm}, ${slot});` : fault('callx is not supported');
    }
    case 'exit': return `R[0] = ${L(0)}; R[1] = ${H(0)}; vm.budget = BU; return;`;
    case 'ldpkt': return fault('legacy packet loads (LD_ABS/LD_IND) are not allowed in XDP programs');
    case 'invalid': return fault(`invalid instruction: ${k.reason}`);
  }
}

function compileFunction(p: ExecProgram, fn: number, opts: CompileOptions): string {
  const start = p.funcStarts[fn]!;
  const later = p.funcStarts.filter((s) => s > start);
  const end = later.length > 0 ? Math.min(...later) : p.length;
  const starts = blockStarts(p, start, end);
  // Only the entry function knows what r1 holds: the context, when the run is an XDP run.
  const ctx = fn === 0 ? ctxRegisterMasks(p, start, end) : undefined;
  const lines: string[] = [];
  const regs = Array.from({ length: 11 }, (_, r) => r);
  lines.push(`return function f${fn}(vm, L1, H1, L2, H2, L3, H3, L4, H4, L5, H5, depth) {`);
  lines.push(`let L0 = 0, H0 = 0, ${regs.slice(6, 10).map((r) => `${L(r)} = 0, ${H(r)} = 0`).join(', ')};`);
  lines.push(`const L10 = (${MAX_CALL_FRAMES} - depth) * ${MAX_BPF_STACK}, H10 = vm.stack.id;`);
  lines.push('const R = vm.regs, O = vm.scratch, RG = vm.memory.regions, HF = vm.helpers;');
  lines.push('let T = 0, o = 0, g = undefined;');
  // The budget lives in a local; vm.budget is brought up to date around calls and on return.
  lines.push('let BU = vm.budget;');
  lines.push('const X = vm.xdp, CTXOK = X !== undefined && H1 === X.ctx.id && L1 === 0;');
  // The packet frame and the stack, the regions most accesses hit, kept at hand.
  lines.push('const PK = X !== undefined ? X.packet : M.noPacket, PKID = PK.id, PKV = PK.view, SV = vm.stack.view;');
  lines.push(`let pc = ${start};`);
  lines.push('for (;;) { switch (pc) {');
  let s = start;
  let r1Map: InlineArray | undefined;
  while (s < end) {
    const k = p.kinds[s];
    if (starts.has(s)) {
      // Charge the whole block on entry.
      const n = blockCost(p, starts, s, end);
      lines.push(`case ${s}: if ((BU -= ${n}) < 0) throw B(vm, ${s});`);
    }
    if (!k) {
      s++;
      continue;
    }
    // Which array map r1 holds, when an lddw of it in this block is the last write to r1.
    if (starts.has(s)) r1Map = undefined;
    lines.push(emitInsn(p, s, ctx, r1Map));
    if ((written(p, s) & 2) !== 0) r1Map = undefined;
    if (k.k === 'lddw' && p.dst[s] === 1 && p.mapOf[s]! >= 0) r1Map = opts.inlineArray?.(p.mapOf[s]!);
    s += k.k === 'lddw' ? 2 : 1;
  }
  // Jump targets inside an lddw get a case of their own that says so.
  for (const t of starts) {
    if (t >= start && t < end && p.kinds[t] === undefined) lines.push(`case ${t}: throw F(${JSON.stringify('jump into the middle of an lddw')}, ${t});`);
  }
  lines.push(`default: throw F(pc >= 0 && pc < ${p.length} ? "jump from one function into another" : "jump or fall-through to slot " + pc + ", outside the program", pc);`);
  lines.push('} } };');
  return lines.join('\n');
}

/** Compile every function of a prepared program; returns the entry. */
export function compileProgram(p: ExecProgram, opts: CompileOptions = {}): CompiledProgram {
  const fns: ((vm: Vm, ...args: number[]) => void)[] = [];
  const fault = (msg: string, slot: number) => new ExecFault(msg, slot, p.name);
  const budgetFault = (vm: Vm, slot: number) => fault(budgetExhausted(vm.budgetLimit), slot);
  // The slow paths, each turning a MemoryFault into an ExecFault that names the instruction.
  const name = p.name;
  const mem = {
    readMem(vm: Vm, hi: number, at: number, size: number, signed: boolean, out: Int32Array, slot: number): void {
      try {
        readMem(vm, hi, at, size, signed, out);
      } catch (e) {
        throw faultAt(e, slot, name);
      }
    },
    writeMem(vm: Vm, hi: number, at: number, size: number, lo: number, vhi: number, slot: number): void {
      try {
        writeMem(vm, hi, at, size, lo, vhi);
      } catch (e) {
        throw faultAt(e, slot, name);
      }
    },
    atomic(vm: Vm, op: string, fetch: boolean, size: 4 | 8, d: number, s: number, off: number, slot: number): void {
      try {
        atomicOp(vm, op, fetch, size, d, s, off);
      } catch (e) {
        throw faultAt(e, slot, name);
      }
    },
    call(vm: Vm, id: number, slot: number): void {
      try {
        vm.helpers[id]!(vm);
      } catch (e) {
        throw faultAt(e, slot, name);
      }
    },
    noHelper: (id: number, slot: number) => fault(missingHelper(id), slot),
    kfunc: (index: number, slot: number) => fault(kfuncOnHostMessage(p.kfuncs[index] ?? `#${index}`), slot),
    /** Stands in for the packet outside XDP runs: an empty window no pointer reaches into. */
    noPacket: { id: -1, lo: 0, hi: 0, view: new DataView(new ArrayBuffer(0)) },
  };
  p.funcStarts.forEach((_, fn) => {
    const text = compileFunction(p, fn, opts);
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const factory = new Function('A', 'M', 'F', 'B', 'FN', text) as (...a: unknown[]) => (vm: Vm, ...args: number[]) => void;
    fns.push(factory(alu, mem, fault, budgetFault, fns));
  });
  const entry = fns[0]!;
  return (vm: Vm) => {
    const R = vm.regs;
    entry(vm, R[2]!, R[3]!, R[4]!, R[5]!, R[6]!, R[7]!, R[8]!, R[9]!, R[10]!, R[11]!, 0);
  };
}

/** Generated source of every function, for tests that check what the generator wrote. */
export function generatedSource(p: ExecProgram, opts: CompileOptions = {}): string {
  return p.funcStarts.map((_, fn) => compileFunction(p, fn, opts)).join('\n');
}
