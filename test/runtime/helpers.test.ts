import { describe, expect, it } from 'vitest';
import { fibLookup, FibResult, parseFibTable, parseIp, RouteFileError } from '../../xdp/runtime/helpers/fib-table.js';
import { formatTracePrintk } from '../../xdp/runtime/helpers/trace-printk.js';
import { Memory } from '../../xdp/runtime/memory.js';
import { createVm } from '../../xdp/runtime/vm.js';
import { adjustHead, adjustMeta, adjustTail, createXdpBuff, loadPacket, packetData, XDP_MAX_DATA } from '../../xdp/runtime/xdp-buff.js';

describe('route file for bpf_fib_lookup', () => {
  const table = parseFibTable({
    interfaces: [{ ifindex: 2, mac: '02:00:00:00:00:02', mtu: 9000 }, { ifindex: 3, mac: '02:00:00:00:00:03' }],
    routes: [
      { prefix: '10.0.0.0/8', ifindex: 2, gateway: '192.0.2.1' },
      { prefix: '10.1.0.0/16', ifindex: 3 },
      { prefix: '203.0.113.0/24', type: 'blackhole' },
      { prefix: '2001:db8::/32', ifindex: 3 },
    ],
    neighbors: [{ ip: '192.0.2.1', mac: '02:00:00:00:00:01' }, { ip: '10.1.2.3', mac: '02:00:00:00:01:23' }],
  }, 'routes.json');

  it('longest prefix wins; the gateway or the destination is the neighbour', () => {
    const a = fibLookup(table, 4, parseIp('10.9.9.9')!.bytes, false);
    expect(a).toMatchObject({ result: FibResult.SUCCESS, ifindex: 2, mtu: 9000 });
    expect(Array.from(a.dmac!)).toEqual([2, 0, 0, 0, 0, 1]);
    expect(fibLookup(table, 4, parseIp('10.1.2.3')!.bytes, false)).toMatchObject({ result: FibResult.SUCCESS, ifindex: 3, mtu: 1500 });
    expect(fibLookup(table, 4, parseIp('10.1.2.4')!.bytes, false)).toMatchObject({ result: FibResult.NO_NEIGH, ifindex: 3 });
    expect(fibLookup(table, 4, parseIp('10.1.2.4')!.bytes, true).result).toBe(FibResult.SUCCESS);
    expect(fibLookup(table, 4, parseIp('203.0.113.9')!.bytes, false).result).toBe(FibResult.BLACKHOLE);
    expect(fibLookup(table, 4, parseIp('8.8.8.8')!.bytes, false).result).toBe(FibResult.NOT_FWDED);
    expect(fibLookup(table, 6, parseIp('2001:db8::1')!.bytes, true)).toMatchObject({ result: FibResult.SUCCESS, ifindex: 3 });
  });

  it('parses IPv6 forms and refuses malformed addresses', () => {
    expect(Array.from(parseIp('::1')!.bytes)).toEqual([...Array(15).fill(0), 1]);
    expect(parseIp('2001:db8::ff00:42:8329')!.bytes[15]).toBe(0x29);
    expect(parseIp('1.2.3.256')).toBeUndefined();
    expect(parseIp('1::2::3')).toBeUndefined();
  });

  it('bad route files name the JSON path', () => {
    const bad = (doc: unknown) => () => parseFibTable(doc, 'r.json');
    expect(bad({ routes: [{ prefix: '10.0.0.0/33', ifindex: 1 }] })).toThrow(/r\.json, \$\.routes\[0\]\.prefix: expected a prefix/);
    expect(bad({ routes: [{ prefix: '10.0.0.0/8' }] })).toThrow(/\$\.routes\[0\]\.ifindex: expected an integer/);
    expect(bad({ interfaces: [{ ifindex: 1, mac: 'zz' }] })).toThrow(/\$\.interfaces\[0\]\.mac: expected a MAC address/);
    expect(bad({ route: [] })).toThrow(/unknown field 'route'/);
    expect(bad({ routes: [{ prefix: '10.0.0.0/8', ifindex: 1, gateway: '::1' }] })).toThrow(RouteFileError);
  });
});

describe('bpf_trace_printk formatting', () => {
  const vm = createVm(new Memory(), [], 100);
  const fmt = (s: string) => new TextEncoder().encode(`${s}\0`);
  it('formats with the kernel conversions and r3..r5', () => {
    vm.regs.set([5, 0, -1, -1, 255, 0], 6);
    expect(formatTracePrintk(vm, fmt('a=%d b=%u c=%x %%'))).toBe('a=5 b=4294967295 c=ff %');
    vm.regs.set([-1, -1], 6);
    expect(formatTracePrintk(vm, fmt('%lld %llu %lx'))).toBe('-1 18446744073709551615 ff');
  });
  it('refuses a fourth argument', () => {
    expect(() => formatTracePrintk(vm, fmt('%d %d %d %d'))).toThrow(/more than 3 arguments/);
  });
});

describe('the XDP buffer: adjust_head/tail/meta limits of net/core/filter.c', () => {
  const memory = new Memory();
  const xdp = createXdpBuff(memory);
  const packet = Uint8Array.from({ length: 60 }, (_, i) => i);

  it('head: grows into the headroom down to the xdp_frame, shrinks to 14 bytes', () => {
    loadPacket(xdp, packet);
    expect(adjustHead(xdp, -(256 - 40))).toBe(0);
    expect(packetData(xdp).length).toBe(60 + 216);
    expect(Array.from(packetData(xdp).subarray(216, 220))).toEqual([0, 1, 2, 3]);
    loadPacket(xdp, packet);
    expect(adjustHead(xdp, -(256 - 39))).toBe(-22);
    expect(adjustHead(xdp, 46)).toBe(0);
    expect(packetData(xdp).length).toBe(14);
    expect(adjustHead(xdp, 1)).toBe(-22);
  });

  it('tail: grows (zeroed) up to the frame minus the tailroom, shrinks to 14 bytes', () => {
    loadPacket(xdp, packet);
    expect(adjustTail(xdp, XDP_MAX_DATA - 60)).toBe(0);
    expect(packetData(xdp).length).toBe(XDP_MAX_DATA);
    expect(packetData(xdp)[60]).toBe(0);
    expect(adjustTail(xdp, 1)).toBe(-22);
    loadPacket(xdp, packet);
    expect(adjustTail(xdp, -46)).toBe(0);
    expect(adjustTail(xdp, -1)).toBe(-22);
  });

  it('meta: in 4-byte steps, down to the xdp_frame, never past data', () => {
    loadPacket(xdp, packet);
    expect(adjustMeta(xdp, -32)).toBe(0);
    expect(adjustMeta(xdp, -184)).toBe(0);
    expect(adjustMeta(xdp, -4)).toBe(-22);
    expect(adjustMeta(xdp, 30)).toBe(-13);
    expect(adjustMeta(xdp, 216)).toBe(0);
    expect(adjustMeta(xdp, 4)).toBe(-22);
  });
});
