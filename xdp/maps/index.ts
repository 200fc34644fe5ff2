/** Host BPF maps: the contract, the map types, definition checks, and the JSON dump/load. */
export * from './bpf-map.js';
export * from './map-types.js';
export * from './map-errors.js';
export * from './map-validate.js';
export * from './create-map.js';
export { ArrayMap } from './array-map.js';
export { HashMap } from './hash-map.js';
export { LpmTrieMap } from './lpm-trie-map.js';
export { QueueStackMap } from './queue-stack-map.js';
export { DevMap, CpuMap, XskMap, type RedirectMap, type RedirectTarget } from './redirect-maps.js';
export { ProgArrayMap } from './prog-array-map.js';
export { MapInMap, innerMapMismatch } from './map-in-map.js';
export { RingBufMap, RingbufFlag, RingbufQuery, RINGBUF_MAX_RECORD_SZ, DYNPTR_MAX_SIZE } from './ringbuf-map.js';
export { PerfEventArrayMap, BPF_F_CURRENT_CPU, type PerfEvent } from './perf-event-array-map.js';
export { ValueSlab, SlotAllocator } from './value-slab.js';
export { parseJson, formatJson, type JsonValue } from './json-text.js';
export * from './map-json.js';
