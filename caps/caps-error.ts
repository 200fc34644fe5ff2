/**
 * A card profile or capability area that cannot be used, with where: the file,
 * the JSON path (`$.maps.maxMaps`) or the byte offset in the capability area.
 */
import { XdpError } from '../xdp/errors.js';

export class CapsError extends XdpError {}
