/**
 * The WebAssembly encoder (nic-sim/core/wasm-encoder.ts): LEB128 against the
 * specification's examples and against a decoder, and modules it writes validated and
 * run by the engine — constants, arithmetic, control flow with a branch table, an
 * imported memory and imported functions.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Code, F64, I32, I64, encodeModule, sleb, uleb, type FuncType } from '../../nic-sim/core/wasm-encoder.js';

/** Decode signed LEB128 (the reference the encoder is held to). */
function unsleb(b: readonly number[]): bigint {
  let v = 0n;
  let shift = 0n;
  for (const x of b) {
    v |= BigInt(x & 0x7f) << shift;
    shift += 7n;
    if ((x & 0x80) === 0) return (x & 0x40) !== 0 ? v - (1n << shift) : v;
  }
  throw new Error('unterminated');
}

const run = (type: FuncType, code: Code, imports: Record<string, unknown> = {}, memoryPages?: number) => {
  const bytes = encodeModule({ imports: [], functions: [{ type, code, export: 'f' }], ...(memoryPages !== undefined ? { memoryPages } : {}) });
  expect(WebAssembly.validate(bytes)).toBe(true);
  return (new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: imports }).exports as { f: (...a: unknown[]) => unknown }).f;
};

describe('the WebAssembly encoder', () => {
  it('writes LEB128 as the specification does', () => {
    expect(uleb(0)).toEqual([0]);
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(uleb(0xffffffff)).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect(sleb(-123456)).toEqual([0xc0, 0xbb, 0x78]);
    expect(sleb(63)).toEqual([0x3f]);
    expect(sleb(64)).toEqual([0xc0, 0x00]);
    expect(sleb(-64)).toEqual([0x40]);
    expect(() => uleb(-1)).toThrow(RangeError);
    fc.assert(fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (v) => {
      expect(unsleb(sleb(v))).toBe(v);
    }), { numRuns: 2000, seed: 3 });
  });

  it('returns any i32 and i64 constant it encodes', () => {
    fc.assert(fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (a, b) => {
      expect(run({ params: [], results: [I32] }, new Code(0).i32Const(a))()).toBe(a);
      expect(run({ params: [], results: [I64] }, new Code(0).i64Const(b))()).toBe(b);
    }), { numRuns: 100, seed: 4 });
    expect(run({ params: [], results: [F64] }, new Code(0).f64Const(-1.25e-300))()).toBe(-1.25e-300);
  });

  it('runs locals, arithmetic and a loop: the sum 1..n', () => {
    const c = new Code(1);
    const acc = c.local(I32);
    c.block().loop()
      .localGet(0).i32Eqz().brIf(1)
      .localGet(acc).localGet(0).i32Add().localSet(acc)
      .localGet(0).i32Const(1).i32Sub().localSet(0)
      .br(0)
      .end().end()
      .localGet(acc);
    const f = run({ params: [I32], results: [I32] }, c);
    expect(f(10)).toBe(55);
    expect(f(0)).toBe(0);
  });

  it('dispatches through a branch table, as a block-compiled program does', () => {
    // case 0 → 100, case 1 → 200, anything else → −1.
    const c = new Code(1);
    c.block().block().block()
      .localGet(0).brTable([0, 1], 2)
      .end().i32Const(100).return()
      .end().i32Const(200).return()
      .end().i32Const(-1);
    const f = run({ params: [I32], results: [I32] }, c);
    expect([f(0), f(1), f(2), f(-5)]).toEqual([100, 200, -1, -1]);
  });

  it('reads and writes an imported memory, and calls imported functions', () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 });
    const seen: number[] = [];
    const bytes = encodeModule({
      imports: [{ name: 'tell', type: { params: [I32], results: [] } }],
      memoryPages: 1,
      functions: [{
        type: { params: [I32], results: [I64] },
        // mem[8] = byte 0x1234 as 16 bits (little-endian), tell(load16 at 8), then mem[16..24) = 0xab, return the i64 at 16 + the u32 at 8.
        code: new Code(1)
          .i32Const(8).localGet(0).i32Store16()
          .i32Const(8).i32Load16U().call(0)
          .i32Const(16).i32Const(0xab).i32Const(8).memoryFill()
          .i32Const(16).i64Load().i32Const(8).i64Load32U().i64Add(),
        export: 'f',
      }],
    });
    expect(WebAssembly.validate(bytes)).toBe(true);
    const f = (new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { tell: (v: number) => seen.push(v), memory } }).exports as { f: (v: number) => bigint }).f;
    expect(f(0x1234)).toBe(BigInt.asIntN(64, 0xababababababababn) + 0x1234n);
    expect(seen).toEqual([0x1234]);
    expect([...new Uint8Array(memory.buffer, 8, 2)]).toEqual([0x34, 0x12]);
  });
});
