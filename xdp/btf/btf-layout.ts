/**
 * Layout checks that need every type parsed first: a struct or union member must
 * lie inside the size its parent declares (the kernel's btf_struct_check_member
 * and btf_union check refuse "Member exceeds struct_size"). BTF that lies about
 * sizes is refused here rather than misreading map keys and values later.
 */
import type { Btf } from './btf-types.js';
import { btfError, resolveType, sizeOf } from './btf-resolve.js';

export function checkBtfLayout(btf: Btf): void {
  for (const t of btf.types) {
    if (t.kind !== 'STRUCT' && t.kind !== 'UNION') continue;
    t.members.forEach((m, i) => {
      let bits: number;
      if (m.bitfieldSize > 0) {
        bits = m.bitfieldSize;
      } else {
        const target = resolveType(btf, m.type);
        // A flexible array member or an incomplete type has no size to check against.
        if (target.kind === 'FWD' || target.kind === 'FUNC_PROTO' || target.kind === 'VOID') return;
        bits = sizeOf(btf, m.type) * 8;
      }
      if (m.bitOffset + bits > t.size * 8) {
        throw btfError(
          btf,
          `type [${t.id}] ${t.kind} '${t.name}' member '${m.name}' ends at bit ${m.bitOffset + bits}, past the declared size of ${t.size} bytes`,
          t.offset + 12 + i * 12,
        );
      }
    });
  }
}
