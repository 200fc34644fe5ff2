/**
 * One relocation applied to one decoded card instruction (docs/nic-image.md,
 * relocation table; the kinds follow the kernel nfp driver's RELO_BR_REL,
 * RELO_BR_HELPER and RELO_IMMED_REL of bpf/main.h):
 *
 *   branch        a br / br=byte / br_bset: target = base + target
 *   helper        an unconditional br: target = the helper's firmware address (the profile's FUNC record)
 *   immed-addr    immed[dst, v]: v = base + target (a return address)
 *   map-id        immed[dst, v]: v = the card's table id of map `target`
 *   map-value-lo  immed[dst, v]: v = low 16 bits of (EMEM address of map `target`'s value 0 + offset)
 *   map-value-hi  immed_w[dst, v, <<16]: v = high 16 bits of the same
 *
 * The field being filled must be 0 in the image (the JIT leaves it so); only that
 * field changes.
 */
import type { CardProfile } from '../../caps/profile.js';
import { disasmInsn } from '../isa/disasm.js';
import type { ImmedInsn, Insn } from '../isa/instructions.js';
import { MAX_TARGET, type ImmedWidth } from '../isa/tables.js';
import type { ImageErrorKind } from './errors.js';
import type { ImageMap, Relocation } from './image-types.js';

export interface RelocContext {
  readonly profile: CardProfile;
  /** Instruction-store address of the image's first instruction. */
  readonly base: number;
  readonly codeLength: number;
  readonly maps: readonly ImageMap[];
  readonly mapIds: readonly number[];
  readonly mapValueAddress: (mapIndex: number) => number;
  /** Refuses the relocation being applied. */
  readonly fail: (kind: ImageErrorKind, reason: string) => never;
}

type Branch = Extract<Insn, { target: number }>;

const hex = (n: number): string => `0x${n.toString(16)}`;

function branchAt(insn: Insn, r: Relocation, cx: RelocContext): Branch {
  const ok = r.kind === 'helper' ? insn.cls === 'br' && insn.cond === 'always' : 'target' in insn;
  const want = r.kind === 'helper' ? 'an unconditional br' : 'a branch (br*, br=byte, br!=byte, br_bset, br_bclr)';
  if (!ok) cx.fail('reloc', `needs ${want}, not ${disasmInsn(insn)}`);
  const b = insn as Branch;
  if (b.target !== 0) cx.fail('reloc', `the branch target it fills is ${b.target}, not 0`);
  return b;
}

function immedAt(insn: Insn, r: Relocation, cx: RelocContext): ImmedInsn {
  const [width, shift]: [ImmedWidth, number] = r.kind === 'map-value-hi' ? ['word', 2] : ['all', 0];
  const ok = insn.cls === 'immed' && insn.width === width && insn.shift === shift && !insn.invert;
  const want = width === 'word' ? 'immed_w[dst, 0, <<16]' : 'immed[dst, 0]';
  if (!ok) cx.fail('reloc', `needs ${want}, not ${disasmInsn(insn)}`);
  const i = insn as ImmedInsn;
  if (i.value !== 0) cx.fail('reloc', `the immed value it fills is ${hex(i.value)}, not 0`);
  return i;
}

/** An image address (branch, immed-addr) checked and moved to the load base. */
function imageAddress(r: Relocation, cx: RelocContext, limit: number): number {
  if (r.target >= cx.codeLength) cx.fail('reloc', `target ${r.target} is outside the image (${cx.codeLength} instructions)`);
  const address = cx.base + r.target;
  if (address > limit) cx.fail('reloc', `address ${hex(address)} (base ${cx.base} + ${r.target}) is above ${hex(limit)}`);
  return address;
}

function helperAddress(r: Relocation, cx: RelocContext): number {
  const card = cx.profile.name;
  const helper = cx.profile.helpers.find((h) => h.id === r.target);
  if (!helper) return cx.fail('reloc', `helper ${r.target} is not implemented by card '${card}'`);
  const { address } = helper;
  if (address === undefined) return cx.fail('reloc', `helper ${r.target} (${helper.name}) has no firmware address on card '${card}'`);
  if (address > MAX_TARGET) cx.fail('reloc', `helper ${r.target} (${helper.name}) is at ${hex(address)}, above ${hex(MAX_TARGET)}`);
  return address;
}

function mapAt(r: Relocation, cx: RelocContext): ImageMap {
  const map = cx.maps[r.target];
  if (!map) return cx.fail('map', `map ${r.target} is outside the map table (${cx.maps.length} maps)`);
  return map;
}

function mapId(r: Relocation, cx: RelocContext): number {
  const map = mapAt(r, cx);
  const id = cx.mapIds[r.target];
  if (id === undefined) return cx.fail('map', `map ${r.target} (${map.name}) has no table id (${cx.mapIds.length} given)`);
  if (!Number.isInteger(id) || id < 0 || id > 0xffff) cx.fail('reloc', `table id ${id} of map ${r.target} (${map.name}) does not fit 16 bits`);
  return id;
}

function mapValueHalf(r: Relocation, cx: RelocContext): number {
  const map = mapAt(r, cx);
  const address = cx.mapValueAddress(r.target) + r.offset;
  if (!Number.isInteger(address) || address < 0 || address > 0xffffffff) {
    cx.fail('reloc', `value address ${address} of map ${r.target} (${map.name}) + ${r.offset} does not fit 32 bits`);
  }
  return r.kind === 'map-value-hi' ? address >>> 16 : address & 0xffff;
}

/** `insn` (the image's instruction at `r.at`) with the relocation applied. */
export function relocate(insn: Insn, r: Relocation, cx: RelocContext): Insn {
  switch (r.kind) {
    case 'branch':
      return { ...branchAt(insn, r, cx), target: imageAddress(r, cx, MAX_TARGET) };
    case 'helper':
      return { ...branchAt(insn, r, cx), target: helperAddress(r, cx) };
    case 'immed-addr':
      return { ...immedAt(insn, r, cx), value: imageAddress(r, cx, 0xffff) };
    case 'map-id':
      return { ...immedAt(insn, r, cx), value: mapId(r, cx) };
    case 'map-value-lo':
    case 'map-value-hi':
      return { ...immedAt(insn, r, cx), value: mapValueHalf(r, cx) };
  }
}
