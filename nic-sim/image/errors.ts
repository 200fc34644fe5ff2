/**
 * The card image's one error type (docs/nic-image.md "The image": the loader
 * refuses, naming the byte offset or relocation). Every problem with an image —
 * bytes that are not one, another format, another card, code too long, a
 * relocation or map reference that cannot be resolved — is an `ImageError` whose
 * `kind` says which and whose message names the file and the place:
 *
 *   prog.img: byte 0x1f3: not a card image: index out of range: 499 + 8 > 500
 *   prog.img: relocation 3 (at 17): map-id needs an immed instruction, not br
 */
import { XdpError } from '../../xdp/errors.js';

export type ImageErrorKind = 'malformed' | 'format' | 'caps' | 'too-long' | 'reloc' | 'map';

/** Where in the image a problem is: a byte of the file, a relocation, or a card instruction of the code. */
export type ImagePlace =
  | { readonly byte: number }
  | { readonly reloc: number; readonly at: number }
  | { readonly insn: number };

const hex = (n: number): string => `0x${n.toString(16)}`;

function describe(place: ImagePlace): string {
  if ('byte' in place) return `byte ${hex(place.byte)}`;
  if ('reloc' in place) return `relocation ${place.reloc} (at ${place.at})`;
  return `instruction ${place.insn} (code byte ${hex(place.insn * 8)})`;
}

/** The `offset` an error carries: the file byte, the relocation index, or the instruction's byte offset in the code. */
function offsetOf(place: ImagePlace): number {
  if ('byte' in place) return place.byte;
  if ('reloc' in place) return place.reloc;
  return place.insn * 8;
}

export class ImageError extends XdpError {
  readonly kind: ImageErrorKind;
  /** The image file, as the user named it. */
  readonly file: string;
  /** Byte offset in the file, the relocation index, or (for a code word) its byte offset in the code. */
  readonly offset?: number;
  /** The reason alone, without file and place. */
  readonly reason: string;

  constructor(kind: ImageErrorKind, file: string, reason: string, place?: ImagePlace) {
    super(place ? `${describe(place)}: ${reason}` : reason, { file });
    this.kind = kind;
    this.file = file;
    this.reason = reason;
    if (place) this.offset = offsetOf(place);
  }
}
