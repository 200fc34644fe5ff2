/**
 * The card image (docs/nic-image.md "The image"): a protobuf message holding the
 * code, the map table, the relocations and the debug tables, its encoding and
 * decoding, and the loader that checks it against a card profile and relocates it.
 */
export * from './image.js';
export { ImageError, type ImageErrorKind, type ImagePlace } from './errors.js';
export { loadImage, type LoadedImage, type LoadOptions } from './load-image.js';
export { IMAGE_PROTO } from './image-schema.js';
