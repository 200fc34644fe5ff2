/**
 * The card's firmware (docs/nic-image.md "Helper calls", "Card maps (EMEM)"): the map
 * store in EMEM and the helper routines the card-core executor calls.
 */
export {
  CardMaps, CardMapError, EMEM_MAPS_BASE, BPF_F_CURRENT_CPU,
  type CardMapDef, type CardMapErrorKind, type CardEvent, type CardMapsOptions,
} from './card-maps.js';
export {
  firmwareRoutines, ctmPacket, FirmwareError, FIRMWARE_HELPER_IDS, FW_REG,
  type FirmwareErrorKind, type FirmwareHelper, type FirmwareOptions,
} from './routines.js';
