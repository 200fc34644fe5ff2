/**
 * nic-sim/image/image.ts: card images to bytes and back. Round trips (hand-built and
 * random images), and the refusals: every truncation of a real image, random and
 * mutated bytes, wrong wire types, unknown fields and out-of-range values all give an
 * ImageError naming the file and a byte offset — never another exception.
 */
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { ImageError } from '../../nic-sim/image/errors.js';
import { CardImageMessage, RelocKindEnum } from '../../nic-sim/image/image-schema.js';
import { IMAGE_FORMAT, RELOC_KINDS, decodeImage, encodeImage, type CardImage } from '../../nic-sim/image/image.js';
import { sampleImage } from './sample.js';

const SEED = Number(process.env.IMAGE_SEED ?? 0x1a6e);

/** The ImageError `f` throws (failing the test on anything else, or on no error). */
function imageError(f: () => unknown): ImageError {
  try {
    f();
  } catch (e) {
    if (!(e instanceof ImageError)) throw e;
    return e;
  }
  throw new Error('no ImageError');
}

/** Bytes of a message built straight from protobufjs, bypassing encodeImage's checks. */
const rawBytes = (fields: Record<string, unknown>): Uint8Array => CardImageMessage.encode(fields).finish();

const sampleRaw = (): Record<string, unknown> => {
  const img = sampleImage();
  return {
    ...img,
    code: img.code.map((w) => ({ low: Number(w & 0xffffffffn), high: Number(w >> 32n) })),
    relocs: img.relocs.map((r) => ({ ...r, kind: RelocKindEnum.values[r.kind.toUpperCase().replaceAll('-', '_')] })),
  };
};

describe('schema', () => {
  it('names the relocation kinds in the order of the schema enum', () => {
    expect(Object.entries(RelocKindEnum.values)).toEqual(RELOC_KINDS.map((k, i) => [k.toUpperCase().replaceAll('-', '_'), i]));
  });
});

describe('round trip', () => {
  it('decodes a hand-built image back to itself', () => {
    const img = sampleImage();
    const bytes = encodeImage(img);
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(decodeImage(bytes, 'prog.img')).toEqual(img);
    expect(decodeImage(Buffer.from(bytes), 'prog.img')).toEqual(img); // as readFileSync gives it
  });

  it('keeps all 64 bits of a code word and negative source entries', () => {
    const img = { ...sampleImage(), code: sampleImage().code.map((_, i) => (i === 0 ? (1n << 64n) - 1n : BigInt(i) << 40n)) };
    expect(decodeImage(encodeImage(img), 'prog.img').code).toEqual(img.code);
  });

  it('encodes the same image to the same bytes', () => {
    expect(encodeImage(sampleImage())).toEqual(encodeImage(sampleImage()));
  });

  const u32 = fc.nat({ max: 0xffffffff });
  const text = fc.string({ unit: 'grapheme', maxLength: 12 });
  const imageArb: fc.Arbitrary<CardImage> = fc
    .record({
      code: fc.array(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { minLength: 8, maxLength: 40 }),
      files: fc.array(text, { maxLength: 3 }),
      capsName: text,
      capsDigest: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex')),
      program: text,
      maps: fc.array(
        fc.record({ name: text, type: u32, keySize: u32, valueSize: fc.nat(64), maxEntries: fc.nat(8), flags: u32 }).chain((m) =>
          fc.uint8Array({ maxLength: m.valueSize * m.maxEntries }).map((initial) => ({ ...m, initial }))),
        { maxLength: 3 },
      ),
      relocs: fc.array(fc.record({ at: u32, kind: fc.constantFrom(...RELOC_KINDS), target: u32, offset: u32 }), { maxLength: 6 }),
    })
    .chain((r) =>
      fc.record({
        source: fc.array(fc.integer({ min: -1, max: 0x7fffffff }), { minLength: r.code.length, maxLength: r.code.length }),
        endPc: fc.nat(r.code.length - 8),
        lines: r.files.length === 0 ? fc.constant([]) : fc.array(
          fc.record({ ebpfIndex: u32, file: fc.nat(r.files.length - 1), line: u32, column: u32 }), { maxLength: 4 }),
      }).map((more) => ({ format: IMAGE_FORMAT, ...r, ...more })),
    );

  it('decodes random valid images back to themselves', () => {
    fc.assert(
      fc.property(imageArb, (img) => {
        expect(decodeImage(encodeImage(img), 'r.img')).toEqual(img);
      }),
      { numRuns: 300, seed: SEED },
    );
  });
});

describe('refusals', () => {
  const bytes = encodeImage(sampleImage());

  it('refuses every truncation of a real image with an ImageError and a byte offset', () => {
    const kinds = new Set<string>();
    for (let n = 0; n < bytes.length; n++) {
      const e = imageError(() => decodeImage(bytes.subarray(0, n), 'prog.img'));
      expect(e.file).toBe('prog.img');
      expect(e.offset).toBeGreaterThanOrEqual(0);
      expect(e.offset).toBeLessThanOrEqual(n);
      expect(e.message).toMatch(/^prog\.img: byte 0x[0-9a-f]+: /);
      kinds.add(e.kind);
    }
    expect([...kinds].sort()).toEqual(['malformed']);
  });

  it('names the byte where protobufjs stopped in a truncated field', () => {
    const cut = bytes.subarray(0, bytes.length - 3); // inside the source table, written last
    const e = imageError(() => decodeImage(cut, 'prog.img'));
    expect(e.kind).toBe('malformed');
    // the packed table's 16 entries are its last 16 bytes, after its tag and length
    const data = bytes.length - 16;
    expect(e.message).toBe(`prog.img: byte 0x${data.toString(16)}: not a card image: index out of range: ${data} + 16 > ${cut.length}`);
    expect(e.offset).toBe(data);
    expect(bytes[data - 2]).toBe((11 << 3) | 2);
  });

  it('refuses random bytes only with ImageErrors', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (junk) => {
        try {
          decodeImage(junk, 'junk.img');
        } catch (e) {
          expect(e).toBeInstanceOf(ImageError);
          expect((e as ImageError).offset).toBeLessThanOrEqual(junk.length);
        }
      }),
      { numRuns: 3000, seed: SEED },
    );
  });

  it('refuses mutations of a real image only with ImageErrors', () => {
    const mutation = fc.array(fc.record({ at: fc.nat(bytes.length - 1), value: fc.nat(255) }), { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(mutation, (changes) => {
        const copy = Uint8Array.from(bytes);
        for (const c of changes) copy[c.at] = c.value;
        try {
          decodeImage(copy, 'm.img');
        } catch (e) {
          expect(e).toBeInstanceOf(ImageError);
          expect((e as ImageError).offset).toBeDefined();
        }
      }),
      { numRuns: 3000, seed: SEED },
    );
  });

  it('refuses an empty file and a non-byte value', () => {
    expect(imageError(() => decodeImage(new Uint8Array(), 'e.img')).message).toBe('e.img: byte 0x0: not a card image: the file is empty');
    expect(imageError(() => decodeImage('abc' as unknown as Uint8Array, 'e.img')).kind).toBe('malformed');
  });

  it('refuses a known field of the wrong wire type, at the field', () => {
    // format (field 1) as a length-delimited field
    const e = imageError(() => decodeImage(Uint8Array.of(0x0a, 0x01, 0x78), 'w.img'));
    expect(e.kind).toBe('malformed');
    expect(e.offset).toBe(0);
    expect(e.message).toBe('w.img: byte 0x0: not a card image: CardImage.format (field 1) has wire type length-delimited, not varint');
  });

  it('refuses a wrong wire type inside a nested message, at the nested field', () => {
    const w = protobuf.Writer.create();
    w.uint32((1 << 3) | 0).uint32(1); // format 1
    w.uint32((8 << 3) | 2).fork(); // relocs[0]
    w.uint32((1 << 3) | 0).uint32(3); // at 3
    w.uint32((2 << 3) | 5).fixed32(1); // kind as fixed32
    w.ldelim();
    const e = imageError(() => decodeImage(w.finish(), 'n.img'));
    expect(e.message).toBe('n.img: byte 0x6: not a card image: Relocation.kind (field 2) has wire type 32-bit, not varint');
  });

  it('refuses a field the schema does not have', () => {
    const extra = Uint8Array.from([...bytes, (99 << 3) & 0x7f | 0x80, 99 >> 4, 0x05]);
    const e = imageError(() => decodeImage(extra, 'x.img'));
    expect(e.offset).toBe(bytes.length);
    expect(e.message).toMatch(/field 99 is not part of a CardImage message/);
  });

  it('refuses another format, at the format field', () => {
    const e = imageError(() => decodeImage(rawBytes({ ...sampleRaw(), format: 2 }), 'f.img'));
    expect(e.kind).toBe('format');
    expect(e.offset).toBe(0);
    expect(e.message).toBe('f.img: byte 0x0: image format 2; this loader reads format 1');
  });

  it.each<[string, Record<string, unknown>, string, RegExp]>([
    ['a source table of the wrong length', { source: [-1, 2] }, 'malformed', /source has 2 entries for 16 code words/],
    ['a source entry below -1', { source: [-2, ...sampleImage().source.slice(1)] }, 'malformed', /source\[0\] is -2/],
    ['end_pc inside the prefetch pad', { endPc: 9 }, 'malformed', /end_pc 9 leaves no room for the 8-instruction prefetch pad in 16/],
    ['a line naming a file not listed', { files: ['a.c'] }, 'malformed', /line entry 1 names file 1, but the image lists 1/],
    ['an unknown relocation kind', { relocs: [{ at: 0, kind: 9, target: 0 }] }, 'reloc', /relocation 0 has an unknown kind 9/],
    ['a caps digest that is not hex', { capsDigest: 'beef' }, 'malformed', /caps_digest 'beef' is not a SHA-256 in hex/],
    ['initial contents larger than the map', { maps: [{ name: 'm', valueSize: 4, maxEntries: 1, initial: new Uint8Array(5) }] }, 'map',
      /map 0 \(m\): 5 bytes of initial contents, but it holds 1 × 4/],
  ])('refuses %s, naming a byte', (_what, change, kind, message) => {
    const e = imageError(() => decodeImage(rawBytes({ ...sampleRaw(), ...change }), 'c.img'));
    expect(e.kind).toBe(kind);
    expect(e.message).toMatch(message);
    expect(e.message).toMatch(/^c\.img: byte 0x[0-9a-f]+: /);
  });

  it('points at the element of a repeated message', () => {
    const relocs = sampleRaw().relocs as object[];
    const bad = rawBytes({ ...sampleRaw(), relocs: [...relocs, { at: 0, kind: 7 }] });
    const good = rawBytes({ ...sampleRaw(), relocs });
    const e = imageError(() => decodeImage(bad, 'c.img'));
    // the extra relocation starts where the line table started in the good image
    const linesTag = (9 << 3) | 2;
    expect(e.offset).toBe(good.indexOf(linesTag, good.length - 60));
  });

  it('refuses to encode an image that would not decode', () => {
    const img = sampleImage();
    expect(imageError(() => encodeImage({ ...img, format: 3 }, 'out.img')).message).toBe('out.img: image format 3; this loader reads format 1');
    expect(imageError(() => encodeImage({ ...img, code: [...img.code, 1n << 64n], source: [...img.source, -1] })).kind).toBe('malformed');
    expect(imageError(() => encodeImage({ ...img, relocs: [{ at: -1, kind: 'branch', target: 0, offset: 0 }] })).kind).toBe('reloc');
    expect(imageError(() => encodeImage({ ...img, maps: [{ ...img.maps[0]!, keySize: 2 ** 32 }] })).kind).toBe('map');
  });
});
