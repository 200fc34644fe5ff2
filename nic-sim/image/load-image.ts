/**
 * The card loader (docs/nic-image.md "The image"): checks that an image was built
 * for this card profile (name and SHA-256 digest of its canonical JSON) and fits its
 * instruction store, decodes the code with nic-sim/isa, and applies the relocations
 * (kinds modelled on the kernel nfp driver's RELO_BR_REL, RELO_BR_HELPER,
 * RELO_IMMED_REL, bpf/main.h) for a load at `base`. Every refusal is an `ImageError`
 * naming the file and the instruction or relocation.
 */
import { profileDigest } from '../../caps/profile-digest.js';
import type { CardProfile } from '../../caps/profile.js';
import { decodeWord } from '../isa/decode.js';
import { IsaError } from '../isa/errors.js';
import type { Insn } from '../isa/instructions.js';
import { MAX_TARGET } from '../isa/tables.js';
import { ImageError, type ImageErrorKind } from './errors.js';
import { checkImage } from './image-check.js';
import type { CardImage } from './image-types.js';
import { relocate } from './relocate.js';

export interface LoadOptions {
  /** The image file, for messages. */
  readonly file: string;
  /** Instruction-store address of the image's first instruction (default 0). */
  readonly base?: number;
  /** The card's table id of each map of the image's table, by index. */
  readonly mapIds: readonly number[];
  /** EMEM byte address of value 0 of map `mapIndex`. */
  readonly mapValueAddress: (mapIndex: number) => number;
}

export interface LoadedImage {
  /** The code, decoded and relocated; instruction i sits at address base + i. */
  readonly insns: Insn[];
  /** Address where one packet's run ends: base + the image's end_pc. */
  readonly endPc: number;
  readonly base: number;
  /** Per instruction: the eBPF instruction index, or −1. */
  readonly source: readonly number[];
}

function checkCard(img: CardImage, profile: CardProfile, file: string): void {
  if (img.capsName !== profile.name) {
    throw new ImageError('caps', file, `image built for card '${img.capsName}', loaded on card '${profile.name}'`);
  }
  const digest = profileDigest(profile);
  if (img.capsDigest !== digest) {
    throw new ImageError('caps', file,
      `image built for another version of card '${img.capsName}' (profile digest ${img.capsDigest}), loaded on one with digest ${digest}`);
  }
  if (img.code.length > profile.maxInsns) {
    throw new ImageError('too-long', file, `program too long: ${img.code.length} card instructions (limit ${profile.maxInsns})`);
  }
}

function checkBase(base: number, length: number, profile: CardProfile, file: string): void {
  if (!Number.isInteger(base) || base < 0) throw new ImageError('too-long', file, `load base ${base} is not an instruction address`);
  if (base + length > MAX_TARGET + 1) {
    throw new ImageError('too-long', file,
      `${length} instructions at base ${base} end past the instruction store (${MAX_TARGET + 1} instructions)`);
  }
  // The firmware's helper routines live in the same store: the code must not cover them.
  const routine = profile.helpers.find((h) => h.address !== undefined && h.address >= base && h.address < base + length);
  if (routine) {
    throw new ImageError('too-long', file,
      `${length} instructions at base ${base} cover the firmware routine of ${routine.name} at ${routine.address}`);
  }
}

function decodeCode(code: readonly bigint[], file: string): Insn[] {
  return code.map((word, i) => {
    try {
      return decodeWord(word, i);
    } catch (e) {
      if (e instanceof IsaError) throw new ImageError('malformed', file, `not a card instruction: ${e.reason}`, { insn: i });
      throw e;
    }
  });
}

/** `img` decoded and relocated for `profile` at `opts.base`. */
export function loadImage(img: CardImage, profile: CardProfile, opts: LoadOptions): LoadedImage {
  const { file, base = 0 } = opts;
  checkImage(img, (kind, reason) => {
    throw new ImageError(kind, file, reason);
  });
  checkCard(img, profile, file);
  checkBase(base, img.code.length, profile, file);
  const insns = decodeCode(img.code, file);
  img.relocs.forEach((r, index) => {
    const fail = (kind: ImageErrorKind, reason: string): never => {
      throw new ImageError(kind, file, `${r.kind}: ${reason}`, { reloc: index, at: r.at });
    };
    const insn = insns[r.at];
    if (insn === undefined) return fail('reloc', `at ${r.at} is outside the code (${img.code.length} instructions)`);
    insns[r.at] = relocate(insn, r, {
      profile, base, codeLength: img.code.length, maps: img.maps, mapIds: opts.mapIds, mapValueAddress: opts.mapValueAddress, fail,
    });
  });
  return { insns, endPc: base + img.endPc, base, source: img.source };
}
