/**
 * Which argument register carries a helper's flags (from the helpers'
 * signatures in include/uapi/linux/bpf.h): what a card profile may pin to one
 * value (caps/profile.ts HelperCap.flags) and the offload rules then check.
 */
export const HELPER_FLAGS_REGISTER: Readonly<Record<number, number>> = {
  2: 4, // bpf_map_update_elem(map, key, value, flags)
  23: 2, // bpf_redirect(ifindex, flags)
  25: 3, // bpf_perf_event_output(ctx, map, flags, data, size)
  51: 3, // bpf_redirect_map(map, key, flags)
  69: 4, // bpf_fib_lookup(ctx, params, plen, flags)
  130: 4, // bpf_ringbuf_output(ringbuf, data, size, flags)
  131: 3, // bpf_ringbuf_reserve(ringbuf, size, flags)
  132: 2, // bpf_ringbuf_submit(data, flags)
  133: 2, // bpf_ringbuf_discard(data, flags)
};
