/**
 * Small self-contained XDP programs (no system headers needed) compiled at test
 * time to exercise BTF: structs, unions, enums, bitfields, typedefs, arrays,
 * BTF-defined maps (pinning, flags, map-in-map, program arrays), data sections,
 * global and static functions, CO-RE relocations, tags.
 */

const PRELUDE = `
typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef signed int __s32;
typedef signed long long __s64;
#define SEC(name) __attribute__((section(name), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
#define __array(name, val) typeof(val) *name[]
struct xdp_md {
  __u32 data;
  __u32 data_end;
  __u32 data_meta;
  __u32 ingress_ifindex;
  __u32 rx_queue_index;
  __u32 egress_ifindex;
};
enum xdp_action { XDP_ABORTED = 0, XDP_DROP, XDP_PASS, XDP_TX, XDP_REDIRECT };
static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
static long (*bpf_map_update_elem)(void *map, const void *key, const void *value, __u64 flags) = (void *)2;
static long (*bpf_tail_call)(void *ctx, void *prog_array_map, __u32 index) = (void *)12;
`;

export interface TestProgram {
  readonly name: string;
  readonly source: string;
}

/** Flow accounting: structs, union, enum, bitfields, typedefs, arrays, a pinned hash map, data sections, a global function. */
export const FLOWS: TestProgram = {
  name: 'flows',
  source: `${PRELUDE}
typedef __u32 be32;
enum proto_class { CLASS_TCP = 6, CLASS_UDP = 17, CLASS_OTHER = 255 };
struct flow_key {
  be32 saddr;
  be32 daddr;
  __u16 sport;
  __u16 dport;
  __u8 proto;
  unsigned int tos : 6, ecn : 2;
  __u8 pad[2];
};
union addr {
  __u32 v4;
  __u8 v6[16];
};
struct flow_stats {
  __u64 packets;
  __u64 bytes;
  union addr peer;
  enum proto_class cls;
  char label[16];
  __u32 hist[2][4];
};
struct {
  __uint(type, 1 /* BPF_MAP_TYPE_HASH */);
  __uint(max_entries, 1024);
  __type(key, struct flow_key);
  __type(value, struct flow_stats);
  __uint(pinning, 1 /* LIBBPF_PIN_BY_NAME */);
  __uint(map_flags, 1 /* BPF_F_NO_PREALLOC */);
} flows SEC(".maps");
struct {
  __uint(type, 6 /* BPF_MAP_TYPE_PERCPU_ARRAY */);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
} counters SEC(".maps");

const volatile __u32 sample_rate = 16;
const char greeting[8] = "flows";
__u32 seen_packets = 1;
__u64 dropped;
struct flow_key last_key;

__attribute__((noinline)) int classify(struct xdp_md *ctx, __u8 proto)
{
  if (proto == CLASS_TCP)
    return ctx->ingress_ifindex & 1;
  return proto == CLASS_UDP ? 2 : 0;
}

SEC("xdp")
int xdp_flows(struct xdp_md *ctx)
{
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  struct flow_key key = {};
  __u32 idx = 0;

  if (data + 34 > data_end) {
    dropped++;
    return XDP_DROP;
  }
  key.proto = ((__u8 *)data)[23];
  key.saddr = *(__u32 *)(data + 26);
  key.tos = ((__u8 *)data)[15] >> 2;
  last_key = key;
  seen_packets += sample_rate + greeting[1];
  struct flow_stats *st = bpf_map_lookup_elem(&flows, &key);
  if (st) {
    st->packets++;
    st->bytes += data_end - data;
  }
  __u64 *c = bpf_map_lookup_elem(&counters, &idx);
  if (c)
    *c += 1;
  return classify(ctx, key.proto) ? XDP_PASS : XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
`,
};

/** Map-in-map (array and hash of maps), a program array, numa/extra/size-only attributes, static subprograms. */
export const MAPS: TestProgram = {
  name: 'maps',
  source: `${PRELUDE}
struct inner_array {
  __uint(type, 2 /* BPF_MAP_TYPE_ARRAY */);
  __uint(max_entries, 8);
  __type(key, __u32);
  __type(value, __u64);
} inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
  __uint(type, 12 /* BPF_MAP_TYPE_ARRAY_OF_MAPS */);
  __uint(max_entries, 4);
  __type(key, __u32);
  __array(values, struct inner_array);
} outer_array SEC(".maps") = { .values = { [0] = &inner_a, [2] = &inner_b } };

typedef struct {
  __uint(type, 1 /* BPF_MAP_TYPE_HASH */);
  __uint(max_entries, 16);
  __type(key, __u16);
  __type(value, __u32);
  __uint(map_flags, 1);
} inner_hash_t;

struct {
  __uint(type, 13 /* BPF_MAP_TYPE_HASH_OF_MAPS */);
  __uint(max_entries, 32);
  __uint(key_size, 4);
  __uint(pinning, 1);
  __array(values, inner_hash_t);
} outer_hash SEC(".maps");

int tail_target(struct xdp_md *ctx);
struct {
  __uint(type, 3 /* BPF_MAP_TYPE_PROG_ARRAY */);
  __uint(max_entries, 2);
  __uint(key_size, sizeof(__u32));
  __array(values, int (struct xdp_md *));
} jump_table SEC(".maps");

struct {
  __uint(type, 4 /* BPF_MAP_TYPE_PERF_EVENT_ARRAY */);
  __uint(key_size, sizeof(int));
  __uint(value_size, sizeof(__u32));
  __uint(numa_node, 1);
} events SEC(".maps");

struct {
  __uint(type, 30 /* BPF_MAP_TYPE_BLOOM_FILTER */);
  __uint(max_entries, 64);
  __type(value, __u32);
  __uint(map_extra, 3);
} bloom SEC(".maps");

static __attribute__((noinline)) __u32 mix(__u32 a, __u32 b)
{
  a ^= b << 3;
  return a * 2654435761u;
}

static __attribute__((noinline)) __u64 *pick(__u32 slot)
{
  __u32 zero = 0;
  void *inner = bpf_map_lookup_elem(&outer_array, &slot);
  if (!inner)
    return 0;
  return bpf_map_lookup_elem(inner, &zero);
}

SEC("xdp")
int xdp_maps(struct xdp_md *ctx)
{
  __u32 h = mix(ctx->rx_queue_index, ctx->ingress_ifindex);
  __u64 *v = pick(h & 3);
  if (v)
    *v += 1;
  bpf_tail_call(ctx, &jump_table, 0);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
`,
};

/** CO-RE relocations, type/decl tags, float, function pointers, qualifiers. */
export const CORE: TestProgram = {
  name: 'core',
  source: `${PRELUDE}
#define __tag(x) __attribute__((btf_decl_tag(x)))
#define __user __attribute__((btf_type_tag("user")))
struct pkt_meta {
  __u32 mark;
  __u16 vlan : 12, prio : 3, dei : 1;
  float weight;
  int (*hook)(struct pkt_meta *, int);
  const volatile __u64 *restrict counter;
  int __user *uptr;
  struct pkt_meta *next;
} __attribute__((preserve_access_index));
enum mode { MODE_A = 1, MODE_B = 2 };
struct opaque;
struct holder {
  struct opaque *o;
  union { __u32 word; __u8 bytes[4]; };
  __u32 tagged __tag("field_tag");
};

struct holder global_holder __tag("var_tag");
int (*volatile hook_slot)(void) = 0;

__attribute__((noinline)) __tag("func_tag") int read_meta(struct pkt_meta *m __tag("arg_tag"))
{
  int r = m->mark;
  r += __builtin_preserve_field_info(m->vlan, 0 /* BYTE_OFFSET */);
  r += __builtin_preserve_field_info(m->prio, 1 /* BYTE_SIZE */);
  r += __builtin_preserve_field_info(m->dei, 2 /* EXISTS */);
  r += __builtin_preserve_field_info(m->vlan, 3 /* SIGNED */);
  r += __builtin_preserve_field_info(m->prio, 4 /* LSHIFT_U64 */);
  r += __builtin_preserve_field_info(m->prio, 5 /* RSHIFT_U64 */);
  r += __builtin_btf_type_id(*m, 0 /* LOCAL */);
  r += __builtin_btf_type_id(*m, 1 /* TARGET */);
  r += __builtin_preserve_type_info(*m, 0 /* EXISTS */);
  r += __builtin_preserve_type_info(*m, 1 /* SIZE */);
  r += __builtin_preserve_enum_value(*(typeof(enum mode) *)MODE_B, 0 /* EXISTS */);
  r += __builtin_preserve_enum_value(*(typeof(enum mode) *)MODE_B, 1 /* VALUE */);
  return r + global_holder.word;
}

SEC("xdp")
int xdp_core(struct xdp_md *ctx)
{
  struct pkt_meta *m = (void *)(long)ctx->data_meta;
  if ((void *)(m + 1) > (void *)(long)ctx->data)
    return XDP_PASS;
  return read_meta(m) > 0 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
`,
};

export const PROGRAMS: readonly TestProgram[] = [FLOWS, MAPS, CORE];
