/**
 * A card image as plain typed values (docs/nic-image.md "The image"): what
 * `offload jit` produces and the card loader consumes, independent of its protobuf
 * encoding (image-schema.ts). The relocation kinds are this project's, modelled on
 * the kernel nfp driver's RELO_BR_REL, RELO_BR_HELPER and RELO_IMMED_REL (bpf/main.h).
 */

/** The only image format there is. */
export const IMAGE_FORMAT = 1;

export const RELOC_KINDS = ['branch', 'helper', 'immed-addr', 'map-id', 'map-value-lo', 'map-value-hi'] as const;
export type RelocKind = (typeof RELOC_KINDS)[number];

/** A map of the image's table (an entry of the card's map store once loaded). */
export interface ImageMap {
  readonly name: string;
  /** BPF map type, numeric (BPF_MAP_TYPE_ARRAY = 2, ...). */
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  /** Initial contents (`.rodata` / `.data`), value after value; empty for none. */
  readonly initial: Uint8Array;
}

/** A field of `code[at]` the loader fills in (docs/nic-image.md, relocation table). */
export interface Relocation {
  /** Card instruction index in `code`. */
  readonly at: number;
  readonly kind: RelocKind;
  /** An image address (branch, immed-addr), a helper id (helper) or a map index (map-*). */
  readonly target: number;
  /** Bytes added to the map value address (map-value-lo, map-value-hi); 0 otherwise. */
  readonly offset: number;
}

/** The C source position of an eBPF instruction. */
export interface ImageLine {
  readonly ebpfIndex: number;
  /** Index into `CardImage.files`. */
  readonly file: number;
  readonly line: number;
  readonly column: number;
}

export interface CardImage {
  /** IMAGE_FORMAT. */
  readonly format: number;
  /** Name of the card profile the image was built for. */
  readonly capsName: string;
  /** SHA-256 (hex) of that profile's canonical JSON (caps/profile-digest.ts). */
  readonly capsDigest: string;
  /** The eBPF program's name. */
  readonly program: string;
  /** Card instruction words (nic-sim/isa encoding); relocated fields are 0. */
  readonly code: readonly bigint[];
  /** Image address where one packet's run ends (the prefetch pad follows). */
  readonly endPc: number;
  readonly maps: readonly ImageMap[];
  readonly relocs: readonly Relocation[];
  /** Per card instruction: the eBPF instruction index, or −1 (prologue, outro, pad). */
  readonly source: readonly number[];
  readonly lines: readonly ImageLine[];
  readonly files: readonly string[];
}
