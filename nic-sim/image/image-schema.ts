/**
 * The card image's protobuf schema (docs/nic-image.md "The image"): the fields
 * `offload jit -o prog.img` writes and the card loader reads. The relocation kinds
 * are this project's, modelled on the kernel nfp driver's relocation types
 * (bpf/main.h: RELO_BR_REL, RELO_BR_GO_OUT, RELO_BR_HELPER, RELO_IMMED_REL).
 * Parsed once with protobufjs; field names become camelCase in JavaScript
 * (`caps_name` → `capsName`). protobufjs writes fields in field-number order.
 */
import protobuf from 'protobufjs';

export const IMAGE_PROTO = `
syntax = "proto3";
package nicsim.image;

message MapEntry {
  string name = 1;
  uint32 type = 2;          // BPF map type (BPF_MAP_TYPE_*, numeric)
  uint32 key_size = 3;
  uint32 value_size = 4;
  uint32 max_entries = 5;
  uint32 flags = 6;
  bytes initial = 7;        // initial contents (.rodata / .data), empty for none
}

message Relocation {
  enum Kind {
    BRANCH = 0;             // a br*: target = load base + target
    HELPER = 1;             // a br: target = firmware address of helper \`target\`
    IMMED_ADDR = 2;         // an immed: value = load base + target
    MAP_ID = 3;             // an immed: value = the card's table id of map \`target\`
    MAP_VALUE_LO = 4;       // an immed: value = low half of (EMEM address of map \`target\`'s value 0 + offset)
    MAP_VALUE_HI = 5;       // an immed_w <<16: value = the high half of the same
  }
  uint32 at = 1;            // card instruction index in \`code\`
  Kind kind = 2;
  uint32 target = 3;
  uint32 offset = 4;
}

message LineEntry {
  uint32 ebpf_index = 1;
  uint32 file = 2;          // index into CardImage.files
  uint32 line = 3;
  uint32 column = 4;
}

message CardImage {
  uint32 format = 1;
  string caps_name = 2;
  string caps_digest = 3;   // SHA-256 hex of the profile's canonical JSON
  string program = 4;
  repeated fixed64 code = 5;
  uint32 end_pc = 6;
  repeated MapEntry maps = 7;
  repeated Relocation relocs = 8;
  repeated LineEntry lines = 9;
  repeated string files = 10;
  // Per card instruction: eBPF instruction index, or -1. The highest field number, so
  // written last: a truncated image always lacks some of it and never passes for whole.
  repeated sint32 source = 11;
}
`;

const root = protobuf.parse(IMAGE_PROTO).root.resolveAll();

export const CardImageMessage: protobuf.Type = root.lookupType('nicsim.image.CardImage');
export const RelocKindEnum: protobuf.Enum = root.lookupEnum('nicsim.image.Relocation.Kind');

/** A 64-bit integer as protobufjs hands it out: a number, or a Long from the `long` package. */
export type WireLong = number | { readonly low: number; readonly high: number };

/** The decoded message, as protobufjs builds it (absent fields read as their defaults). */
export interface RawImage {
  format: number;
  capsName: string;
  capsDigest: string;
  program: string;
  code: WireLong[];
  endPc: number;
  maps: RawMap[];
  relocs: RawReloc[];
  source: number[];
  lines: RawLine[];
  files: string[];
}

export interface RawMap {
  name: string;
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  initial: Uint8Array;
}

export interface RawReloc {
  at: number;
  kind: number;
  target: number;
  offset: number;
}

export interface RawLine {
  ebpfIndex: number;
  file: number;
  line: number;
  column: number;
}
