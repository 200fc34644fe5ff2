/** BTF: the type model, the .BTF and .BTF.ext parsers, lookups, map definitions, rendering. */
export * from './btf-types.js';
export { parseBtf, BTF_SECTION, type ParseBtfOptions } from './btf-parse.js';
export * from './btf-ext.js';
export * from './btf-resolve.js';
export * from './btf-map-def.js';
export * from './btf-format.js';
