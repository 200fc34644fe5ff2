/**
 * The helpers the kernel lets an XDP program call: net/core/filter.c's
 * xdp_func_proto (the XDP-specific ones: perf_event_output, csum_diff,
 * xdp_adjust_head/meta/tail, redirect, redirect_map, xdp_get_buff_len,
 * xdp_load_bytes, xdp_store_bytes, fib_lookup, check_mtu, the socket lookups
 * and the syncookie helpers) falling back to bpf_sk_base_func_proto and
 * bpf_base_func_proto (maps, time, ring buffers, timers, dynptrs, and for a
 * loader with CAP_PERFMON the tracing helpers).
 *
 * The list is what Linux 6.18 answers to a privileged loader: a program calling
 * helper N is refused with "program of this type cannot use helper" exactly
 * when N is missing here. test/verifier/helper-registry.test.ts asks the
 * running kernel for every id and prints any difference.
 */
export const XDP_ALLOWED_HELPERS: ReadonlySet<number> = new Set([
  1, 2, 3, 5, 6, 7, 8, 12, 14, 15, 16, 17, 22, 23, 25, 28, 35, 37, 42, 44, 51, 54, 55, 65, 69, 80,
  84, 85, 86, 87, 88, 89, 93, 94, 99, 100, 105, 106, 109, 110, 112, 113, 114, 115, 117, 118, 120, 123, 125,
  130, 131, 132, 133, 134, 136, 137, 138, 139, 140, 141, 148, 149, 153, 154, 156, 157, 158, 160, 163, 164, 165,
  169, 170, 171, 172, 175, 176, 177, 178, 180, 181, 182, 188, 189, 190, 191,
  194, 195, 196, 197, 198, 199, 200, 201, 202, 203, 204, 205, 206, 207, 208, 209, 210, 211,
]);
