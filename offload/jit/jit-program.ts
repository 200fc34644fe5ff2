/**
 * The JIT's entry for one program of an object (the kernel's `nfp_bpf_translate`
 * after `nfp_verify_insn` has filled its metadata): verify it as the kernel would for
 * a device, with every scalar precise so that the records' facts hold on every path;
 * refuse it if the verifier does; translate the records; write the image; hold it to
 * the card's program-size limit (max_instr, the 8-instruction prefetch pad counted).
 */
import type { CardProfile } from '../../caps/profile.js';
import type { CardImage } from '../../nic-sim/image/index.js';
import type { BpfObject, Program } from '../../xdp/object/bpf-object.js';
import { buildRecords, type ProgramRecords } from '../verifier/insn-records.js';
import { JitError } from './errors.js';
import { buildImage } from './image-writer.js';
import { PASSES, translate, type CardProgram, type PassName, type TranslateOptions } from './translate.js';

export interface JitResult {
  readonly records: ProgramRecords;
  readonly card: CardProgram;
  readonly image: CardImage;
}

export interface JitOptions {
  /** Verify as an unprivileged loader (default privileged, as offload is). */
  readonly unprivileged?: boolean;
  /** Optimisations to leave out (`--no-opt NAME`). */
  readonly noOpt?: ReadonlySet<PassName>;
}

/** The translation options for a profile: its adjust_head window, XDP's 32-bit action, the passes on. */
export function translateOptions(profile: CardProfile, noOpt: ReadonlySet<PassName> = new Set()): TranslateOptions {
  return {
    u32Return: true,
    passes: new Set(PASSES.filter((p) => !noOpt.has(p))),
    ...(profile.adjustHead ? { adjustHead: { offMin: profile.adjustHead.offMin, offMax: profile.adjustHead.offMax } } : {}),
  };
}

/** Card instructions each pass saves: the program translated with that pass also off, against `card`. */
export function passSavings(records: ProgramRecords, profile: CardProfile, card: CardProgram, noOpt: ReadonlySet<PassName> = new Set()): Record<PassName, number> {
  return Object.fromEntries(PASSES.filter((p) => !noOpt.has(p)).map((p) => [
    p, translate(records.records, translateOptions(profile, new Set([...noOpt, p]))).insns.length - card.insns.length,
  ])) as Record<PassName, number>;
}

/** Does this JIT translate for the profile's card (a 32-bit core issuing one instruction a cycle, as the NFP)? */
export const nfpShaped = (profile: CardProfile): boolean => profile.isa.wordBits === 32 && profile.timing.issueWidth === 1;

/** A verified program's records (every scalar precise) and its translation with every pass. */
export interface Translated {
  readonly records: ProgramRecords;
  readonly card: CardProgram;
}

/** Verify and translate, without the size limit or the image (what `offload check` counts). */
export function translateProgram(obj: Pick<BpfObject, 'maps'>, program: Program, profile: CardProfile, opts: JitOptions = {}): Translated {
  if (!nfpShaped(profile)) {
    throw new JitError('unsupported', 0, `${profile.name} is not a 32-bit single-issue card: this JIT translates for NFP-shaped cards only`);
  }
  const { result, records } = buildRecords(program, obj.maps, { privileged: !opts.unprivileged, offloaded: true, preciseScalars: true });
  if (!result.ok) {
    const e = result.error!;
    throw new JitError('refused', Math.max(0, e.insn), `the verifier refuses the program, so it is not translated: ${e.message}`);
  }
  const card = translate(records.records, translateOptions(profile, opts.noOpt));
  return { records, card };
}

/** The message of an image over the card's limit. */
export const tooLongMessage = (n: number, limit: number): string => `program too long: ${n} card instructions (limit ${limit})`;

/**
 * The whole JIT: verify and translate (or take `translated`, what `offload check`'s decision already
 * made, translated again only when passes are off), hold to the size limit, write the image.
 */
export function jitProgram(
  obj: Pick<BpfObject, 'maps'>, program: Program, profile: CardProfile, opts: JitOptions = {}, translated?: Translated,
): JitResult {
  const given = translated ?? translateProgram(obj, program, profile, opts);
  const records = given.records;
  const card = opts.noOpt?.size ? translate(records.records, translateOptions(profile, opts.noOpt)) : given.card;
  if (card.insns.length > profile.maxInsns) {
    const last = records.records.at(-1)?.index ?? 0;
    throw new JitError('too-long', last, tooLongMessage(card.insns.length, profile.maxInsns));
  }
  return { records, card, image: buildImage(card, program, obj.maps, profile) };
}
