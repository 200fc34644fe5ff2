/**
 * The `.ksyms` DATASEC made acceptable to BPF_BTF_LOAD, as libbpf does in
 * bpf_object__collect_externs: clang lists each extern kfunc there as a FUNC,
 * but a DATASEC may only hold VARs, it has no ELF section to take its size
 * from, and an extern's FUNC_PROTO parameters have no names (btf_func_check
 * wants one for every parameter). libbpf adds one `int` VAR ("dummy_ksym"),
 * points every FUNC entry of the DATASEC at it (4 bytes each, offsets in
 * order), gives each kfunc's FUNC global linkage and its unnamed parameters
 * the dummy's name. The same is done here on a copy of the raw .BTF: new
 * types and strings are appended, the header's lengths updated.
 */
import type { Btf, BtfDatasec } from '../btf/btf-types.js';

const BTF_KIND_INT = 1;
const BTF_KIND_VAR = 14;
const BTF_FUNC_GLOBAL = 1;
const BTF_INT_SIGNED = 1;
const DUMMY_NAME = 'dummy_ksym';

export type SanitizedBtf = { ok: true; raw: Uint8Array } | { ok: false; reason: string };

/** `raw` with `.ksyms` rewritten; `raw` itself when the object has no `.ksyms`. */
export function sanitizeKsyms(raw: Uint8Array, btf: Btf): SanitizedBtf {
  const ksyms = btf.types.find((t): t is BtfDatasec => t.kind === 'DATASEC' && t.name === '.ksyms');
  if (!ksyms) return { ok: true, raw };
  const { hdrLen, typeOff, typeLen, strOff, strLen } = btf.header;
  if (typeOff !== 0 || strOff !== typeLen) return { ok: false, reason: 'the .BTF layout is not types then strings; .ksyms cannot be rewritten' };
  const nonFunc = ksyms.vars.find((v) => btf.types[v.type]?.kind !== 'FUNC');
  if (nonFunc) return { ok: false, reason: `.ksyms holds extern variable #${nonFunc.type}; only kfuncs are supported` };

  const nextId = btf.types.length;
  const int = btf.types.find((t) => t.kind === 'INT' && t.name === 'int' && t.size === 4);
  const extraTypes: number[] = [];
  const extraStrings = new TextEncoder().encode(`${int ? '' : 'int\0'}${DUMMY_NAME}\0`);
  const intName = strLen;
  const dummyName = strLen + (int ? 0 : 4);
  let intId = int?.id;
  if (intId === undefined) {
    intId = nextId;
    extraTypes.push(intName, BTF_KIND_INT << 24, 4, (BTF_INT_SIGNED << 24) | 32);
  }
  const dummyId = int ? nextId : nextId + 1;
  extraTypes.push(dummyName, BTF_KIND_VAR << 24, intId, 1 /* BTF_VAR_GLOBAL_ALLOCATED */);

  const types = new Uint8Array(extraTypes.length * 4);
  const tv = new DataView(types.buffer);
  extraTypes.forEach((w, i) => tv.setUint32(i * 4, w >>> 0, true));
  const out = new Uint8Array(raw.length + types.length + extraStrings.length);
  out.set(raw.subarray(0, hdrLen + typeLen), 0);
  out.set(types, hdrLen + typeLen);
  out.set(raw.subarray(hdrLen + strOff, hdrLen + strOff + strLen), hdrLen + typeLen + types.length);
  out.set(extraStrings, hdrLen + typeLen + types.length + strLen);
  const v = new DataView(out.buffer);
  v.setUint32(12, typeLen + types.length, true); // type_len
  v.setUint32(16, typeLen + types.length, true); // str_off
  v.setUint32(20, strLen + extraStrings.length, true); // str_len

  ksyms.vars.forEach((entry, i) => {
    const at = ksyms.offset + 12 + i * 12;
    v.setUint32(at, dummyId, true);
    v.setUint32(at + 4, i * 4, true);
    v.setUint32(at + 8, 4, true);
    const func = btf.types[entry.type]!;
    if (func.kind !== 'FUNC') return;
    v.setUint32(func.offset + 4, (v.getUint32(func.offset + 4, true) & ~0xffff) | BTF_FUNC_GLOBAL, true);
    const proto = btf.types[func.type];
    if (proto?.kind !== 'FUNC_PROTO') return;
    proto.params.forEach((p, j) => {
      const nameAt = proto.offset + 12 + j * 8;
      if (p.type !== 0 && v.getUint32(nameAt, true) === 0) v.setUint32(nameAt, dummyName, true);
    });
  });
  v.setUint32(ksyms.offset + 8, ksyms.vars.length * 4, true);
  return { ok: true, raw: out };
}
