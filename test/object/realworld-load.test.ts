/**
 * Objects as real projects build them (issue 9, points 1-3), loaded as
 * libbpf/bpftool would: static programs in one section (cilium's tail calls),
 * pre-1.0 section names and `--type xdp`, e_machine 0 from old LLVM,
 * map-in-map definitions with a u32 value type, maps the loader sizes, and
 * extern kfunc calls resolved in the running kernel's BTF. Each fixture is
 * loaded by our loader and, where the machine allows, by the kernel (through
 * our kernel loaders) and by libbpf 1.1 (bpftool); a malformed variant of
 * each quirk is refused with a typed error naming file, section and offset.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ObjectFormatError, UnsupportedError, XdpError } from '../../xdp/errors.js';
import { readBtfMaps } from '../../xdp/btf/btf-map-def.js';
import { parseBtf } from '../../xdp/btf/btf-parse.js';
import { sanitizeKsyms } from '../../xdp/kernel/ksyms-btf.js';
import { sectionByName } from '../../xdp/elf/elf.js';
import { kindOf } from '../../xdp/isa/kind.js';
import { CallSrc } from '../../xdp/isa/opcodes.js';
import { possibleCpus } from '../../xdp/kernel/bpf-syscall.js';
import { KernelError } from '../../xdp/kernel/kernel-error.js';
import { readKernelFuncs, resolveKfuncs } from '../../xdp/kernel/kernel-kfuncs.js';
import { kernelAvailable, loadObjectIntoKernel, type KernelObject } from '../../xdp/kernel/kernel-oracle.js';
import { kernelVerdict, loadProgramIntoKernel } from '../../xdp/kernel/load-program.js';
import { MAP_TYPE } from '../../xdp/maps/map-types.js';
import { libbpfMapDef } from '../../xdp/maps/map-validate.js';
import { findPrograms, loadObject, loadObjectFile, selectProgram, type LoadedObject } from '../../xdp/object/load-object.js';
import { requireMapSizes, withMapSizes } from '../../xdp/object/map-sizes.js';
import { describeInsn } from '../../xdp/object/program-listing.js';
import { typeNotice } from '../../xdp/object/program-type.js';
import { XdpMachine } from '../../xdp/runtime/xdp-machine.js';
import { FIXTURE_OBJ, hasCommand } from '../support/paths.js';

const path = (name: string) => join(FIXTURE_OBJ, `${name}.o`);
const fixture = (name: string, opts = {}) => loadObjectFile(path(name), opts);
const bytesOf = (name: string) => new Uint8Array(readFileSync(path(name)));

const kernel = kernelAvailable();
const kernelOk = kernel.ok && kernel.privileged;
const UNAME = spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim();
if (!kernelOk) console.log(`SKIP real-world objects in the kernel: ${kernel.ok ? 'not privileged (root verifier mode needed)' : kernel.reason}`);
const BPFFS = existsSync('/proc/mounts') && / \/sys\/fs\/bpf bpf /.test(readFileSync('/proc/mounts', 'utf8'));
const bpftoolOk = kernelOk && BPFFS && hasCommand('bpftool');
if (!bpftoolOk) console.log('SKIP real-world objects through libbpf: needs bpftool, bpffs at /sys/fs/bpf and the kernel');
const VMLINUX = '/sys/kernel/btf/vmlinux';
const vmlinuxOk = kernelOk && existsSync(VMLINUX);
if (kernelOk && !vmlinuxOk) console.log(`SKIP kfuncs in the kernel: no ${VMLINUX}`);

/** On a failed kernel comparison, say which kernel and what each side said. */
function compare<T>(what: string, ours: T, theirs: T): void {
  if (JSON.stringify(ours) !== JSON.stringify(theirs)) console.log(`${what} differs on kernel ${UNAME}: ours ${JSON.stringify(ours)}, kernel/libbpf ${JSON.stringify(theirs)}`);
  expect(ours).toEqual(theirs);
}

/** Ethernet + IPv4 (+ TCP or UDP header) frame, 64 bytes at least. */
function ipv4Frame(opts: { ttl?: number; proto?: number; saddr?: number } = {}): Uint8Array {
  const f = new Uint8Array(74);
  const v = new DataView(f.buffer);
  v.setUint16(12, 0x0800);
  f[14] = 0x45;
  v.setUint16(16, 60);
  f[22] = opts.ttl ?? 64;
  f[23] = opts.proto ?? 6;
  v.setUint32(26, opts.saddr ?? 0x0a000001);
  v.setUint32(30, 0x0a000002);
  v.setUint16(34, 40000);
  v.setUint16(36, 80);
  f[46] = 0x50;
  return f;
}

function withKernel<T>(obj: LoadedObject, program: string, fn: (k: KernelObject) => T): T {
  const k = loadObjectIntoKernel(obj, { program });
  try {
    return fn(k);
  } finally {
    k.close();
  }
}

/** Run `bpftool prog loadall FILE DIR [type xdp]`: the libbpf 1.1 oracle. */
function bpftoolLoadall(file: string, type?: string): { ok: boolean; stderr: string; programs: string[]; dir: string; cleanup(): void } {
  const dir = mkdtempSync('/sys/fs/bpf/offload-rw-');
  const r = spawnSync('bpftool', ['prog', 'loadall', file, join(dir, 'p'), ...(type ? ['type', type] : [])], { encoding: 'utf8' });
  const programs = r.status === 0 ? (spawnSync('ls', [join(dir, 'p')], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean)) : [];
  return { ok: r.status === 0, stderr: r.stderr, programs, dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A copy of `bytes` with `fn` applied. */
function patched(bytes: Uint8Array, fn: (b: Uint8Array, v: DataView) => void): Uint8Array {
  const copy = bytes.slice();
  fn(copy, new DataView(copy.buffer));
  return copy;
}

/** File offset of .BTF byte `at` of `bytes` (types' offsets are inside .BTF). */
function btfFileOffset(bytes: Uint8Array, at: number): number {
  const obj = loadObject(bytes, 'copy.o');
  return sectionByName(obj.elf, '.BTF')!.offset + at;
}

// ---------------------------------------------------------------- 1. program discovery

describe('static programs in one section (cilium tail calls)', () => {
  const obj = fixture('rw_static_progs');

  it('every FUNC of a program section is a program, static or global; .text functions stay subprograms', () => {
    expect(obj.programs.map((p) => [p.name, p.section, p.static ?? false])).toEqual([
      ['tail_ipv4', 'xdp/tail', true], ['tail_ipv6', 'xdp/tail', true], ['tail_other', 'xdp/tail', true],
      ['xdp_tail_entry', 'xdp', false],
    ]);
    expect(obj.programs.some((p) => p.name === 'too_short')).toBe(false);
    expect(selectProgram(obj, 'xdp_tail_entry').funcs.map((f) => [f.name, f.section])).toEqual([['xdp_tail_entry', 'xdp'], ['too_short', '.text']]);
  });

  it('--section selects by section (all three) or by function name', () => {
    expect(findPrograms(obj, 'xdp/tail').map((p) => p.name)).toEqual(['tail_ipv4', 'tail_ipv6', 'tail_other']);
    expect(selectProgram(obj, 'tail_ipv6').sectionOffset).toBe(obj.elf.symbols.find((s) => s.name === 'tail_ipv6')!.value);
    expect(() => selectProgram(obj, 'xdp/tail')).toThrow(/holds 3 programs \(tail_ipv4, tail_ipv6, tail_other\)/);
  });

  it('PROG_ARRAY slots name the static programs through their section symbol and offset', () => {
    expect(obj.maps.find((m) => m.name === 'tail_calls')!.initialSlots).toEqual([
      { slot: 0, name: 'tail_ipv4' }, { slot: 1, name: 'tail_ipv6' }, { slot: 2, name: 'tail_other' },
    ]);
  });

  it('a .values slot that points inside a function is refused with the offset', () => {
    const bytes = bytesOf('rw_static_progs');
    const elf = loadObject(bytes, 'x.o').elf;
    const maps = sectionByName(elf, '.maps')!;
    const rel = elf.relocations.get(maps.index)!.entries[1]!; // slot 1 → tail_ipv6
    const inside = elf.symbols.find((s) => s.name === 'tail_ipv6')!.value + 4;
    const bad = patched(bytes, (_b, v) => v.setUint32(maps.offset + rel.offset, inside, true));
    const e = (() => { try { loadObject(bad, 'bad.o'); } catch (x) { return x; } })();
    expect(e).toBeInstanceOf(ObjectFormatError);
    expect((e as Error).message).toBe(`bad.o, section .maps, offset 0x${rel.offset.toString(16)}: .values slot points at offset ${inside} of xdp/tail, where no function starts`);
  });

  it.skipIf(!kernelOk)('the kernel runs the entry and its static tail calls as the host engine does', () => {
    const packets = [ipv4Frame({ ttl: 1 }), ipv4Frame({ ttl: 64 }), new Uint8Array(40)];
    const host = new XdpMachine(obj, selectProgram(obj, 'xdp_tail_entry'), { engine: 'interp' });
    const ours = packets.map((p, i) => host.run(p, i).actionName);
    expect(ours).toEqual(['XDP_DROP', 'XDP_PASS', 'XDP_DROP']);
    const theirs = withKernel(obj, 'xdp_tail_entry', (k) => {
      expect(k.programs.map((p) => p.name).sort()).toEqual(['tail_ipv4', 'tail_ipv6', 'tail_other', 'xdp_tail_entry']);
      return packets.map((p) => ['XDP_ABORTED', 'XDP_DROP', 'XDP_PASS', 'XDP_TX', 'XDP_REDIRECT'][k.run(p).retval]);
    });
    compare('tail-call verdicts', ours, theirs);
  });

  it.skipIf(!bpftoolOk)('libbpf 1.1 refuses static programs (bpf_object__add_programs); we load them as cilium/ebpf does', () => {
    const r = bpftoolLoadall(path('rw_static_progs'));
    try {
      expect(r.ok).toBe(false);
      expect(r.stderr).toContain("libbpf: sec 'xdp/tail': program 'tail_ipv4' is static and not supported");
    } finally {
      r.cleanup();
    }
  });
});

// ---------------------------------------------------------------- 2. program type

describe('pre-1.0 section names and --type xdp', () => {
  it('"xdp1" and "xdp_prog" are XDP as libbpf < 1.0 took them, with a notice; "prog" has no type', () => {
    const obj = fixture('rw_legacy_sections');
    expect(obj.programs.map((p) => [p.name, p.type.progType, p.type.attach, p.type.assumed])).toEqual([
      ['xdp_count_proto', 'XDP', 'XDP', 'legacy-name'], ['xdp_pass_legacy', 'XDP', 'XDP', 'legacy-name'],
    ]);
    expect(obj.foreign).toEqual([{ name: 'xdp_drop_ipv6', section: 'prog', progType: 'UNKNOWN' }]);
    expect(typeNotice(obj.programs[0]!)).toBe(
      "section 'xdp1' is not a libbpf 1.0 section name: program 'xdp_count_proto' is taken as XDP (attach XDP), as libbpf before 1.0 did; --type xdp says so and silences this notice",
    );
    expect(() => selectProgram(obj, 'prog')).toThrow(UnsupportedError);
    expect(() => selectProgram(obj, 'prog')).toThrow(/section 'prog', a name that says no program type; if it is an XDP program, say so with --type xdp/);
  });

  it('--type xdp: every program is XDP, no notice; XDP sections keep their attach type', () => {
    const obj = fixture('rw_legacy_sections', { progType: 'xdp' });
    expect(obj.programs.map((p) => [p.name, p.type.assumed])).toEqual([
      ['xdp_count_proto', 'option'], ['xdp_pass_legacy', 'option'], ['xdp_drop_ipv6', 'option'],
    ]);
    expect(obj.programs.map(typeNotice)).toEqual([undefined, undefined, undefined]);
    expect(fixture('redirect_devmap', { progType: 'xdp' }).programs[0]!.type).toEqual(fixture('redirect_devmap').programs[0]!.type);
  });

  it('other program types keep their refusal', () => {
    const obj = loadObject(bytesOf('rw_legacy_sections'), 'x.o');
    expect(obj.foreign[0]!.progType).toBe('UNKNOWN');
    expect(fixture('basic_actions').programs.every((p) => p.type.progType === 'XDP')).toBe(true);
  });

  it.skipIf(!bpftoolOk)('the kernel loads each with --type xdp as bpftool prog loadall ... type xdp does; libbpf 1.1 refuses the names alone', () => {
    const obj = fixture('rw_legacy_sections', { progType: 'xdp' });
    const plain = bpftoolLoadall(path('rw_legacy_sections'));
    const typed = bpftoolLoadall(path('rw_legacy_sections'), 'xdp');
    try {
      expect(plain.ok).toBe(false);
      expect(plain.stderr).toContain("libbpf: failed to guess program type from ELF section 'xdp1'");
      expect(typed.ok, typed.stderr).toBe(true);
      const ours = obj.programs.map((p) => {
        const v = kernelVerdict(obj, p);
        return [p.name, v.accepted];
      }).sort();
      compare('programs loaded with type xdp', ours, typed.programs.map((n) => [n, true]).sort());
      const drop = withKernel(obj, 'xdp_drop_ipv6', (k) => {
        const v6 = new Uint8Array(64);
        v6[12] = 0x86;
        v6[13] = 0xdd;
        return [k.run(v6).retval, k.run(ipv4Frame()).retval];
      });
      expect(drop).toEqual([1, 2]);
    } finally {
      plain.cleanup();
      typed.cleanup();
    }
  });
});

// ---------------------------------------------------------------- 3. quirks

describe('e_machine 0 (old LLVM)', () => {
  it('loads as the same object; another machine is still refused with its offset', () => {
    const bytes = bytesOf('rw_map_in_map_u32');
    const zero = loadObject(patched(bytes, (_b, v) => v.setUint16(18, 0, true)), 'old-llvm.o');
    const orig = loadObject(bytes, 'old-llvm.o');
    expect(zero.elf.machine).toBe(0);
    expect(zero.programs.map((p) => p.insns)).toEqual(orig.programs.map((p) => p.insns));
    expect(zero.maps).toEqual(orig.maps);
    expect(() => loadObject(patched(bytes, (_b, v) => v.setUint16(18, 183, true)), 'arm.o'))
      .toThrow(/^arm\.o, offset 0x12: ELF machine 183: expected 247 \(BPF\), or 0 as old LLVM wrote it$/);
  });
});

describe('map-in-map with __type(value, __u32) beside __array(values, ...)', () => {
  it('is accepted (parse_btf_map_def: a 4-byte value), the value type kept for listings', () => {
    const obj = fixture('rw_map_in_map_u32');
    const outer = obj.maps.filter((m) => m.inner).map((m) => [m.name, m.type, m.keySize, m.valueSize, m.inner!.type, m.valueTypeId !== undefined]);
    expect(outer).toEqual([
      ['counters_by_slot', MAP_TYPE.ARRAY_OF_MAPS, 4, 4, MAP_TYPE.ARRAY, true],
      ['counters_by_key', MAP_TYPE.HASH_OF_MAPS, 4, 4, MAP_TYPE.ARRAY, true],
    ]);
    expect(obj.maps.find((m) => m.name === 'counters_by_slot')!.initialSlots).toEqual([{ slot: 0, name: 'ipv4_counter' }]);
  });

  it('a value of another size is refused with libbpf\'s reason and the BTF offset', () => {
    const bytes = bytesOf('rw_map_in_map_u32');
    const obj = loadObject(bytes, 'x.o');
    const btf = obj.btf!;
    const v = readBtfMaps(btf).find((m) => m.name === 'counters_by_slot')!;
    const s = btf.types[(btf.types[v.varId] as unknown as { type: number }).type] as unknown as { members: { name: string; type: number }[] };
    const ptr = btf.types[s.members.find((m) => m.name === 'value')!.type] as { offset: number };
    const u64 = btf.types.find((t) => t.kind === 'TYPEDEF' && t.name === '__u64')!;
    // Point the outer map's value pointer (shared with key pointers: the first error is the value's) at __u64.
    const bad = patched(bytes, (_b, dv) => dv.setUint32(btfFileOffset(bytes, ptr.offset) + 8, u64.id, true));
    let e: unknown;
    try {
      loadObject(bad, 'bad.o');
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(XdpError);
    expect(e).not.toBeInstanceOf(TypeError);
    expect((e as Error).message).toMatch(
      /^bad\.o, section \.BTF, offset 0x[0-9a-f]+: map 'counters_by_slot': member 'value' conflicting value size 8 != 4: beside 'values' the value is an fd/,
    );
  });

  it.skipIf(!kernelOk)('the kernel creates both outer maps and runs the program as the host engine does', () => {
    const obj = fixture('rw_map_in_map_u32');
    const packets = [ipv4Frame(), ipv4Frame(), ipv4Frame({ proto: 17 })];
    const host = new XdpMachine(obj, obj.programs[0]!, { engine: 'compiled' });
    packets.forEach((p, i) => host.run(p, i));
    const hostCount = host.maps.find((m) => m.def.name === 'ipv4_counter')!.read(new Uint8Array(4))![0]!;
    const theirs = withKernel(obj, 'xdp_map_in_map_u32', (k) => {
      packets.forEach((p) => k.run(p));
      return k.lookupMap('ipv4_counter', new Uint8Array(4))![0]!;
    });
    compare('ipv4_counter after 3 packets', [...hostCount], [...theirs]);
    expect(new DataView(theirs.buffer, theirs.byteOffset).getUint32(0, true)).toBe(3);
  });
});

describe('maps the loader sizes (max_entries 0)', () => {
  const bytes = bytesOf('rw_max_entries_zero');
  /** The fixture with 'flows' at max_entries 0 (its BTF `int (*max_entries)[4093]` array made empty). */
  const flowsAtZero = (): Uint8Array => {
    const obj = loadObject(bytes, 'x.o');
    const arr = obj.btf!.types.filter((t) => t.kind === 'ARRAY' && (t as { nelems: number }).nelems === 4093);
    expect(arr).toHaveLength(1);
    return patched(bytes, (_b, v) => v.setUint32(btfFileOffset(bytes, arr[0]!.offset) + 12 + 8, 0, true));
  };

  it('a PERF_EVENT_ARRAY without max_entries and a RINGBUF of 5000 bytes are sized as libbpf does', () => {
    const obj = fixture('rw_max_entries_zero');
    const perf = obj.maps.find((m) => m.name === 'new_flow_events')!;
    const ring = obj.maps.find((m) => m.name === 'new_flow_lengths')!;
    expect([perf.maxEntries, ring.maxEntries]).toEqual([0, 5000]);
    expect(libbpfMapDef(perf, 6).maxEntries).toBe(6);
    expect(libbpfMapDef(ring, 1).maxEntries).toBe(8192);
    expect(() => requireMapSizes(obj)).not.toThrow();
  });

  it('a map left at 0 is named with the option that sizes it; --map-size sizes it', () => {
    const obj = loadObject(flowsAtZero(), 'flows0.o');
    expect(obj.maps.find((m) => m.name === 'flows')!.maxEntries).toBe(0);
    let e: unknown;
    try {
      requireMapSizes(obj);
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(UnsupportedError);
    expect((e as Error).message).toBe("flows0.o, section .maps: map 'flows' has max_entries 0: loaders size it before loading; give --map-size flows=N");
    const sized = withMapSizes(obj, new Map([['flows', 1024]]));
    expect(sized.maps.find((m) => m.name === 'flows')!.maxEntries).toBe(1024);
    expect(() => requireMapSizes(sized)).not.toThrow();
    expect(() => withMapSizes(obj, new Map([['flow', 8]]))).toThrow(/^flows0\.o: --map-size names map 'flow', which the object does not have; its maps: .*\bflows\b/);
  });

  it.skipIf(!kernelOk)('the kernel loaders refuse the 0 with the same message, and load it once sized', () => {
    const obj = loadObject(flowsAtZero(), 'flows0.o');
    expect(() => loadObjectIntoKernel(obj)).toThrow(/map 'flows' has max_entries 0: loaders size it before loading; give --map-size flows=N/);
    expect(() => loadProgramIntoKernel(obj, obj.programs[0]!)).toThrow(UnsupportedError);
    const sized = withMapSizes(obj, new Map([['flows', 16]]));
    const seen = withKernel(sized, 'xdp_new_flows', (k) => {
      k.run(ipv4Frame({ saddr: 1 }));
      k.run(ipv4Frame({ saddr: 1 }));
      k.run(ipv4Frame({ saddr: 2 }));
      return k.readMap('flows').length;
    });
    expect(seen).toBe(2);
  });

  it.skipIf(!bpftoolOk)('the kernel gets the sizes libbpf gives: possible CPUs for the perf array, 8192 for the ring', () => {
    const obj = fixture('rw_max_entries_zero');
    const ids = withKernel(obj, 'xdp_new_flows', (k) => k.maps.map((m) => [m.def.name, m.fd]));
    expect(ids.length).toBe(3);
    const r = bpftoolLoadall(path('rw_max_entries_zero'));
    try {
      expect(r.ok, r.stderr).toBe(true);
      const shown = JSON.parse(execFileSync('bpftool', ['map', 'show', '-j'], { encoding: 'utf8' })) as { name: string; max_entries: number }[];
      const libbpf = ['new_flow_event', 'new_flow_length'].map((n) => shown.filter((m) => m.name.startsWith(n)).pop()?.max_entries);
      compare('perf array and ring sizes', [possibleCpus(), 8192], libbpf);
      const loaded = withKernel(obj, 'xdp_new_flows', () => {
        const again = JSON.parse(execFileSync('bpftool', ['map', 'show', '-j'], { encoding: 'utf8' })) as { name: string; max_entries: number }[];
        return ['new_flow_event', 'new_flow_length'].map((n) => again.filter((m) => m.name.startsWith(n)).map((m) => m.max_entries));
      });
      compare('sizes our kernel loader gave', loaded.map((l) => [...new Set(l)]), [[possibleCpus()], [8192]]);
    } finally {
      r.cleanup();
    }
  });
});

describe('extern kfunc calls', () => {
  const ct = fixture('rw_kfunc_ct');

  it('each call is BPF_PSEUDO_KFUNC_CALL with imm indexing Program.kfuncs; the listing names it', () => {
    const p = ct.programs[0]!;
    expect(p.kfuncs).toEqual([{ name: 'bpf_xdp_ct_lookup', weak: false }, { name: 'bpf_ct_release', weak: false }]);
    const calls = p.insns.map((insn, i) => ({ insn, i })).filter(({ insn }) => { const k = kindOf(insn); return k.k === 'call' && k.target === 'kfunc'; });
    expect(calls.map(({ insn }) => [insn.src, insn.imm, insn.off])).toEqual([[CallSrc.KFUNC, 0, 0], [CallSrc.KFUNC, 1, 0]]);
    expect(calls.map(({ i }) => describeInsn(p, i, ct.maps))).toEqual(['call bpf_xdp_ct_lookup (kfunc)', 'call bpf_ct_release (kfunc)']);
  });

  it('.ksyms is laid out for BPF_BTF_LOAD as libbpf does: every entry a 4-byte dummy int VAR, the kfuncs global', () => {
    const raw = sanitizeKsyms(sectionByName(ct.elf, '.BTF')!.data.slice(), ct.btf!);
    expect(raw.ok).toBe(true);
    const btf = parseBtf((raw as { raw: Uint8Array }).raw);
    const ksyms = btf.types.find((t) => t.kind === 'DATASEC' && t.name === '.ksyms') as unknown as { size: number; vars: { type: number; offset: number; size: number }[] };
    expect(ksyms.size).toBe(8);
    expect(ksyms.vars.map((v) => [btf.types[v.type]!.kind, btf.types[v.type]!.name, v.offset, v.size])).toEqual([
      ['VAR', 'dummy_ksym', 0, 4], ['VAR', 'dummy_ksym', 4, 4],
    ]);
    const funcs = btf.types.filter((t) => t.kind === 'FUNC' && ['bpf_xdp_ct_lookup', 'bpf_ct_release'].includes(t.name)) as unknown as { linkage: unknown; type: number }[];
    expect(funcs.map((f) => f.linkage)).toEqual(['global', 'global']);
    for (const f of funcs) {
      expect((btf.types[f.type] as unknown as { params: { name: string }[] }).params.every((p) => p.name !== '')).toBe(true);
    }
  });

  it('a weak extern is marked weak', () => {
    const bytes = bytesOf('rw_kfunc_missing');
    const elf = loadObject(bytes, 'x.o').elf;
    const sym = elf.symbols.find((s) => s.name === 'bpf_xdp_flow_lookup')!;
    const symtab = elf.sections.find((s) => s.type === 2)!;
    const weak = loadObject(patched(bytes, (b) => { b[symtab.offset + sym.index * 24 + 4] = (2 << 4) | (b[symtab.offset + sym.index * 24 + 4]! & 0xf); }), 'weak.o');
    expect(weak.programs[0]!.kfuncs).toEqual([{ name: 'bpf_xdp_flow_lookup', weak: true }]);
  });

  it('a kfunc call relocation against an unnamed undefined symbol is refused with its offset', () => {
    const bytes = bytesOf('rw_kfunc_ct');
    const elf = loadObject(bytes, 'x.o').elf;
    const xdp = sectionByName(elf, 'xdp')!;
    const { table, entries } = elf.relocations.get(xdp.index)!;
    const i = entries.findIndex((r) => elf.symbols[r.symbol]!.name === 'bpf_xdp_ct_lookup');
    const bad = patched(bytes, (_b, v) => v.setUint32(table.offset + i * 16 + 12, 0, true)); // r_info's symbol → 0
    let e: unknown;
    try {
      loadObject(bad, 'bad.o');
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(ObjectFormatError);
    expect((e as Error).message).toBe(`bad.o, section xdp, offset 0x${entries[i]!.offset.toString(16)}: call relocation against an unnamed undefined symbol`);
  });

  it('the host engines refuse them by name', () => {
    const m = new XdpMachine(ct, ct.programs[0]!, { engine: 'interp' });
    const r = m.run(ipv4Frame(), 0);
    expect([r.actionName, r.error]).toEqual(['XDP_ABORTED', expect.stringContaining('kfunc bpf_xdp_ct_lookup cannot run on the host engine: kernel functions run only in the kernel (--engine kernel)')]);
    const c = new XdpMachine(ct, ct.programs[0]!, { engine: 'compiled' });
    expect(c.run(ipv4Frame(), 0).error).toContain('kfunc bpf_xdp_ct_lookup cannot run on the host engine');
    expect(m.run(ipv4Frame({ proto: 17 }), 1).actionName).toBe('XDP_PASS');
  });

  it.skipIf(!vmlinuxOk)('names resolve to the kernel\'s BTF FUNC ids, as bpftool btf dump shows them', () => {
    const funcs = readKernelFuncs();
    const ids = resolveKfuncs(ct.programs[0]!, funcs, ct.file);
    const dump = execFileSync('bpftool', ['btf', 'dump', 'file', VMLINUX], { encoding: 'utf8', maxBuffer: 1 << 28 });
    const theirs = ['bpf_xdp_ct_lookup', 'bpf_ct_release'].map((n) => Number(new RegExp(`^\\[(\\d+)\\] FUNC '${n}'`, 'm').exec(dump)?.[1]));
    compare('kfunc BTF ids', ids, theirs);
    expect(funcs.idOf('bpf_xdp_flow_lookup')).toBe(/^\[\d+\] FUNC 'bpf_xdp_flow_lookup'/m.test(dump) ? expect.any(Number) : undefined);
  });

  it.skipIf(!vmlinuxOk)('the kernel runs bpf_xdp_ct_lookup: an unknown TCP connection is dropped, UDP passed', () => {
    const verdicts = withKernel(ct, 'xdp_ct_filter', (k) => {
      // The object's BTF loads: .ksyms rewritten as libbpf does (kfunc FUNCs → a dummy int VAR).
      expect(k.btf).toEqual({ loaded: true });
      return [k.run(ipv4Frame({ proto: 6 })).retval, k.run(ipv4Frame({ proto: 17 })).retval];
    });
    expect(verdicts).toEqual([1, 2]);
  });

  it.skipIf(!vmlinuxOk)('a kfunc the kernel lacks is refused with libbpf\'s message; weak, the verifier is left to judge the call', (ctx) => {
    const obj = fixture('rw_kfunc_missing');
    const funcs = readKernelFuncs();
    if (funcs.idOf('bpf_xdp_flow_lookup') !== undefined) {
      console.log(`SKIP the missing-kfunc refusal: kernel ${UNAME} has bpf_xdp_flow_lookup`);
      ctx.skip(`kernel ${UNAME} has bpf_xdp_flow_lookup`);
    }
    const msg = "rw_kfunc_missing.o, section xdp: extern (func ksym) 'bpf_xdp_flow_lookup': not found in kernel or module BTFs";
    expect(() => loadObjectIntoKernel(obj)).toThrow(UnsupportedError);
    expect(() => loadObjectIntoKernel(obj)).toThrow(msg);
    expect(() => loadProgramIntoKernel(obj, obj.programs[0]!, { kernelFuncs: funcs })).toThrow(msg);
    if (bpftoolOk) {
      const r = bpftoolLoadall(path('rw_kfunc_missing'));
      try {
        compare('libbpf refusal', r.stderr.includes("libbpf: extern (func ksym) 'bpf_xdp_flow_lookup': not found in kernel or module BTFs"), true);
      } finally {
        r.cleanup();
      }
    }
    // Weak: libbpf leaves imm and off 0; the kernel refuses a call it cannot eliminate as dead code.
    const bytes = bytesOf('rw_kfunc_missing');
    const elf = loadObject(bytes, 'x.o').elf;
    const sym = elf.symbols.find((s) => s.name === 'bpf_xdp_flow_lookup')!;
    const at = elf.sections.find((s) => s.type === 2)!.offset + sym.index * 24 + 4;
    const weak = loadObject(patched(bytes, (b) => { b[at] = (2 << 4) | (b[at]! & 0xf); }), 'weak.o');
    let e: unknown;
    try {
      loadProgramIntoKernel(weak, weak.programs[0]!, { kernelFuncs: funcs }).close();
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(KernelError);
    expect((e as KernelError).log).toContain('invalid kernel function call not eliminated in verifier pass');
  });
});
