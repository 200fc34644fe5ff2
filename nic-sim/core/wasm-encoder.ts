/**
 * WebAssembly modules written out as bytes (the binary format of the WebAssembly Core
 * Specification 2.0, §5): what the card executor's WebAssembly back end emits for an
 * image. Hand-written because it must run synchronously inside a card's constructor
 * and start in no time: the maintained emitters (binaryen.js, wabt.js) load a compiler
 * of several megabytes asynchronously, a second or so before the first card could run.
 *
 * `Code` builds a function body instruction by instruction, its methods named after the
 * text format's instructions; `encodeModule` puts types, imports, functions and exports
 * together. Only the instructions the back end uses are here.
 */

export const I32 = 0x7f;
export const I64 = 0x7e;
export const F64 = 0x7c;
export type ValType = typeof I32 | typeof I64 | typeof F64;
/** A block's type: no result, or one value. */
export type BlockType = ValType | 'empty';

/** An unsigned integer as LEB128. */
export function uleb(n: number): number[] {
  if (!(Number.isInteger(n) && n >= 0 && n <= 0xffffffff)) throw new RangeError(`uleb: ${n} is not a 32-bit unsigned integer`);
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** A signed integer (up to 64 bits) as signed LEB128. */
export function sleb(v: bigint | number): number[] {
  let n = BigInt(v);
  const out: number[] = [];
  for (;;) {
    const b = Number(n & 0x7fn);
    n >>= 7n;
    const done = (n === 0n && (b & 0x40) === 0) || (n === -1n && (b & 0x40) !== 0);
    out.push(done ? b : b | 0x80);
    if (done) return out;
  }
}

const utf8 = (s: string): number[] => {
  const b = [...new TextEncoder().encode(s)];
  return [...uleb(b.length), ...b];
};
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => (body.length === 0 ? [] : [id, ...uleb(body.length), ...body]);
const blockType = (t: BlockType): number => (t === 'empty' ? 0x40 : t);

/** A memory access's alignment (log2 of bytes) and offset. */
const memarg = (align: number, offset: number): number[] => [...uleb(align), ...uleb(offset)];

/** A function body: its locals beyond the parameters, and its instructions. */
export class Code {
  readonly bytes: number[] = [];
  private readonly locals: ValType[] = [];

  constructor(private readonly params: number) {}

  /** A new local of type t: its index. */
  local(t: ValType): number {
    this.locals.push(t);
    return this.params + this.locals.length - 1;
  }

  private op(...b: number[]): this {
    for (const x of b) this.bytes.push(x);
    return this;
  }

  // Control.
  unreachable(): this { return this.op(0x00); }
  block(t: BlockType = 'empty'): this { return this.op(0x02, blockType(t)); }
  loop(t: BlockType = 'empty'): this { return this.op(0x03, blockType(t)); }
  if(t: BlockType = 'empty'): this { return this.op(0x04, blockType(t)); }
  else(): this { return this.op(0x05); }
  end(): this { return this.op(0x0b); }
  br(depth: number): this { return this.op(0x0c, ...uleb(depth)); }
  brIf(depth: number): this { return this.op(0x0d, ...uleb(depth)); }
  brTable(depths: readonly number[], otherwise: number): this { return this.op(0x0e, ...vec(depths.map(uleb)), ...uleb(otherwise)); }
  return(): this { return this.op(0x0f); }
  call(f: number): this { return this.op(0x10, ...uleb(f)); }
  drop(): this { return this.op(0x1a); }
  select(): this { return this.op(0x1b); }

  // Locals.
  localGet(i: number): this { return this.op(0x20, ...uleb(i)); }
  localSet(i: number): this { return this.op(0x21, ...uleb(i)); }
  localTee(i: number): this { return this.op(0x22, ...uleb(i)); }

  // Memory (memory 0; `offset` a constant added to the address on the stack).
  i32Load(offset = 0): this { return this.op(0x28, ...memarg(2, offset)); }
  i64Load(offset = 0): this { return this.op(0x29, ...memarg(3, offset)); }
  f64Load(offset = 0): this { return this.op(0x2b, ...memarg(3, offset)); }
  i32Load8U(offset = 0): this { return this.op(0x2d, ...memarg(0, offset)); }
  i32Load16U(offset = 0): this { return this.op(0x2f, ...memarg(1, offset)); }
  i64Load32U(offset = 0): this { return this.op(0x35, ...memarg(2, offset)); }
  i32Store(offset = 0): this { return this.op(0x36, ...memarg(2, offset)); }
  i64Store(offset = 0): this { return this.op(0x37, ...memarg(3, offset)); }
  f64Store(offset = 0): this { return this.op(0x39, ...memarg(3, offset)); }
  i32Store8(offset = 0): this { return this.op(0x3a, ...memarg(0, offset)); }
  i32Store16(offset = 0): this { return this.op(0x3b, ...memarg(1, offset)); }
  i64Store32(offset = 0): this { return this.op(0x3e, ...memarg(2, offset)); }
  /** memory.fill(dest, value, length), from the stack. */
  memoryFill(): this { return this.op(0xfc, ...uleb(11), 0x00); }

  // Constants.
  i32Const(v: number): this { return this.op(0x41, ...sleb(v | 0)); }
  i64Const(v: bigint | number): this { return this.op(0x42, ...sleb(BigInt.asIntN(64, BigInt(v)))); }
  f64Const(v: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    return this.op(0x44, ...b);
  }

  // i32.
  i32Eqz(): this { return this.op(0x45); }
  i32Eq(): this { return this.op(0x46); }
  i32Ne(): this { return this.op(0x47); }
  i32LtS(): this { return this.op(0x48); }
  i32LtU(): this { return this.op(0x49); }
  i32GtS(): this { return this.op(0x4a); }
  i32GtU(): this { return this.op(0x4b); }
  i32LeS(): this { return this.op(0x4c); }
  i32LeU(): this { return this.op(0x4d); }
  i32GeS(): this { return this.op(0x4e); }
  i32GeU(): this { return this.op(0x4f); }
  i32Clz(): this { return this.op(0x67); }
  i32Add(): this { return this.op(0x6a); }
  i32Sub(): this { return this.op(0x6b); }
  i32Mul(): this { return this.op(0x6c); }
  i32And(): this { return this.op(0x71); }
  i32Or(): this { return this.op(0x72); }
  i32Xor(): this { return this.op(0x73); }
  i32Shl(): this { return this.op(0x74); }
  i32ShrS(): this { return this.op(0x75); }
  i32ShrU(): this { return this.op(0x76); }
  i32Rotl(): this { return this.op(0x77); }
  i32Rotr(): this { return this.op(0x78); }

  // i64.
  i64Eqz(): this { return this.op(0x50); }
  i64Eq(): this { return this.op(0x51); }
  i64Ne(): this { return this.op(0x52); }
  i64LtS(): this { return this.op(0x53); }
  i64GtS(): this { return this.op(0x55); }
  i64GtU(): this { return this.op(0x56); }
  i64GeS(): this { return this.op(0x59); }
  i64Add(): this { return this.op(0x7c); }
  i64Sub(): this { return this.op(0x7d); }
  i64And(): this { return this.op(0x83); }
  i64Or(): this { return this.op(0x84); }
  i64Shl(): this { return this.op(0x86); }
  i64ShrS(): this { return this.op(0x87); }
  i64ShrU(): this { return this.op(0x88); }

  // f64.
  f64Add(): this { return this.op(0xa0); }
  f64Sub(): this { return this.op(0xa1); }
  f64Gt(): this { return this.op(0x64); }

  // Conversions.
  i32WrapI64(): this { return this.op(0xa7); }
  i64ExtendI32S(): this { return this.op(0xac); }
  i64ExtendI32U(): this { return this.op(0xad); }
  f64ConvertI32U(): this { return this.op(0xb8); }
  f64ConvertI64S(): this { return this.op(0xb9); }

  /** The body as the code section holds it: its size, its locals in runs of one type, its instructions and `end`. */
  encode(): number[] {
    const runs: number[][] = [];
    for (const t of this.locals) {
      const last = runs.at(-1);
      if (last && last[1] === t) last[0]!++;
      else runs.push([1, t]);
    }
    const body = [...vec(runs.map(([n, t]) => [...uleb(n!), t!])), ...this.bytes, 0x0b];
    return [...uleb(body.length), ...body];
  }
}

export interface FuncType {
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
}

export interface ModuleParts {
  /** Functions imported from `env`, in index order (they come before the module's own). */
  readonly imports: readonly { readonly name: string; readonly type: FuncType }[];
  /** Import `env.memory` as memory 0, of at least this many 64 KiB pages. */
  readonly memoryPages?: number;
  /** The module's own functions: their types and bodies (indices after the imports). */
  readonly functions: readonly { readonly type: FuncType; readonly code: Code; readonly export?: string }[];
}

/** The module's bytes (`\0asm`, version 1, then its sections in order). */
export function encodeModule(m: ModuleParts): Uint8Array {
  const types: FuncType[] = [];
  const typeIndex = (t: FuncType): number => {
    const k = types.findIndex((x) => x.params.join() === t.params.join() && x.results.join() === t.results.join());
    if (k >= 0) return k;
    types.push(t);
    return types.length - 1;
  };
  const imports = m.imports.map((f) => [...utf8('env'), ...utf8(f.name), 0x00, ...uleb(typeIndex(f.type))]);
  if (m.memoryPages !== undefined) imports.push([...utf8('env'), ...utf8('memory'), 0x02, 0x00, ...uleb(m.memoryPages)]);
  const funcs = m.functions.map((f) => uleb(typeIndex(f.type)));
  const exports = m.functions.flatMap((f, k) => (f.export === undefined ? [] : [[...utf8(f.export), 0x00, ...uleb(m.imports.length + k)]]));
  const typeSec = vec(types.map((t) => [0x60, ...vec(t.params.map((p) => [p])), ...vec(t.results.map((r) => [r]))]));
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, typeSec),
    ...section(2, imports.length ? vec(imports) : []),
    ...section(3, funcs.length ? vec(funcs) : []),
    ...section(7, exports.length ? vec(exports) : []),
    ...section(10, m.functions.length ? vec(m.functions.map((f) => f.code.encode())) : []),
  ];
  return Uint8Array.from(bytes);
}
