/**
 * The helper registry (xdp/helpers/helper-registry.ts) on its own: one record per id of
 * `enum bpf_func_id`, dense from 1, named `bpf_` + the enum name; a prototype only for helpers XDP
 * may call, and one for every helper the host engines run; flags registers inside the prototype.
 * The ids and names are also compared with the system's include/linux/bpf.h where it is installed
 * (older headers list fewer helpers: each one they list must be ours). Whether the kernel agrees on
 * which helpers XDP may call is test/verifier/helper-registry.test.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  HelperId, MAP_ONLY_FOR, helperId, helperIds, helperName, helperProto, helperSpec, type HelperIdName,
} from '../../xdp/helpers/helper-registry.js';
import { MAP_TYPE } from '../../xdp/maps/map-types.js';
import { PROVIDED_HELPERS } from '../../xdp/runtime/helpers/xdp-helpers.js';

const MAX_ID = 211;
const ids = helperIds();
const specs = ids.map((id) => helperSpec(id)!);

describe('the helper registry', () => {
  it(`has one record per id, dense 1..${MAX_ID}, named bpf_ + the enum name`, () => {
    expect(ids).toEqual(Array.from({ length: MAX_ID }, (_, i) => i + 1));
    const values = Object.values(HelperId);
    expect(new Set(values).size).toBe(values.length);
    expect([...values].sort((a, b) => a - b)).toEqual(ids);
    for (const [key, id] of Object.entries(HelperId)) {
      const spec = helperSpec(id)!;
      expect(spec.id, key).toBe(id);
      expect(spec.name, key).toBe(`bpf_${key.toLowerCase()}`);
    }
    for (const bad of [0, -1, 1.5, MAX_ID + 1, Number.NaN]) {
      expect(helperSpec(bad), String(bad)).toBeUndefined();
      expect(helperName(bad), String(bad)).toBeUndefined();
    }
  });

  it('keeps the ABI numbers of include/uapi/linux/bpf.h', () => {
    expect(HelperId.MAP_LOOKUP_ELEM).toBe(1);
    expect(HelperId.TAIL_CALL).toBe(12);
    expect(HelperId.PERF_EVENT_OUTPUT).toBe(25);
    expect(HelperId.XDP_ADJUST_HEAD).toBe(44);
    expect(HelperId.REDIRECT_MAP).toBe(51);
    expect(HelperId.FIB_LOOKUP).toBe(69);
    expect(HelperId.RINGBUF_OUTPUT).toBe(130);
    expect(HelperId.TCP_RAW_GEN_SYNCOOKIE_IPV4).toBe(204);
    expect(HelperId.CGRP_STORAGE_DELETE).toBe(MAX_ID);
  });

  it('round-trips every HelperId through helperName and helperId', () => {
    for (const key of Object.keys(HelperId) as HelperIdName[]) {
      const id = HelperId[key];
      const name = helperName(id)!;
      expect(name, key).toBe(`bpf_${key.toLowerCase()}`);
      expect(helperId(name), name).toBe(id);
      expect(helperId(name.slice(4)), name).toBe(id);
    }
    expect(helperId('unspec')).toBeUndefined();
    expect(helperId('bpf_unspec')).toBeUndefined();
    expect(helperId('bpf_no_such_helper')).toBeUndefined();
    expect(helperId('')).toBeUndefined();
  });

  it('models only helpers XDP may call, and every helper the engines run', () => {
    for (const s of specs) if (s.proto) expect(s.xdp, s.name).toBe(true);
    for (const id of PROVIDED_HELPERS) expect(helperProto(id), `engine helper ${helperName(id)}`).toBeDefined();
  });

  it('puts the flags argument inside the prototype, as a plain value', () => {
    for (const s of specs) {
      if (s.allowedFlags !== undefined) expect(s.flagsArg, `${s.name} has allowedFlags`).toBeDefined();
      if (s.flagsArg === undefined) continue;
      expect(s.flagsArg, s.name).toBeGreaterThanOrEqual(1);
      expect(s.flagsArg, s.name).toBeLessThanOrEqual(5);
      if (s.proto) {
        expect(s.flagsArg, s.name).toBeLessThanOrEqual(s.proto.args.length);
        expect(s.proto.args[s.flagsArg - 1], s.name).toBe('anything');
      }
    }
  });

  it('marks kernel-only helpers as XDP helpers the engines do not run', () => {
    const kernelOnly = specs.filter((s) => s.kernelOnly !== undefined).map((s) => s.id);
    expect(kernelOnly).toEqual([
      HelperId.TCP_RAW_GEN_SYNCOOKIE_IPV4, HelperId.TCP_RAW_GEN_SYNCOOKIE_IPV6,
      HelperId.TCP_RAW_CHECK_SYNCOOKIE_IPV4, HelperId.TCP_RAW_CHECK_SYNCOOKIE_IPV6,
    ]);
    for (const id of kernelOnly) {
      expect(helperSpec(id)!.xdp).toBe(true);
      expect(PROVIDED_HELPERS).not.toContain(id);
    }
  });

  it('lets MAP_ONLY_FOR name only helpers whose prototype takes that map type', () => {
    for (const [type, only] of Object.entries(MAP_ONLY_FOR)) {
      for (const id of only) {
        const proto = helperProto(id);
        expect(proto?.args, `${helperName(id)} for map type ${type}`).toContain('map');
        if (proto?.mapTypes) expect(proto.mapTypes, `${helperName(id)} for map type ${type}`).toContain(Number(type));
      }
    }
    expect(MAP_ONLY_FOR[MAP_TYPE.PROG_ARRAY]).toEqual([HelperId.TAIL_CALL]);
  });
});

/** The system's uapi header (linux-libc-dev, installed with libbpf-dev). */
const UAPI_BPF_H = '/usr/include/linux/bpf.h';
const header = existsSync(UAPI_BPF_H) ? readFileSync(UAPI_BPF_H, 'utf8') : undefined;
if (header === undefined) console.log(`SKIP helper ids against the system's linux/bpf.h: no ${UAPI_BPF_H}`);

describe.skipIf(header === undefined)(`the helper ids against ${UAPI_BPF_H}`, () => {
  it('names each id the header lists as the header does', () => {
    // `#define __BPF_FUNC_MAPPER(FN) FN(unspec), FN(map_lookup_elem), ...`, the id being the position;
    // since Linux 6.2 `#define ___BPF_FUNC_MAPPER(FN, ctx...) FN(unspec, 0, ##ctx) ...`, the id written.
    const start = header!.search(/FN\(unspec\b/);
    expect(start).toBeGreaterThanOrEqual(0);
    const body = header!.slice(start, header!.indexOf('\n\n', start));
    const names = [...body.matchAll(/FN\((\w+)(?:,\s*(\d+))?/g)].map((m, index) => ({ name: m[1]!, id: m[2] !== undefined ? Number(m[2]) : index }));
    expect(names[0]).toEqual({ name: 'unspec', id: 0 });
    expect(names.length).toBeGreaterThan(200);
    for (const { name, id } of names.slice(1)) expect(helperName(id), `${name} = ${id}`).toBe(`bpf_${name}`);
  });
});
