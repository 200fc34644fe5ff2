/**
 * What the card firmware's helper routines cost (nic-sim/firmware/routines.ts does
 * what they compute): the profile's cycles for the call itself and for the routine's
 * own work, the memory commands it issues to the map's memory, and whether it holds
 * the map's lock. The commands follow from how the firmware keeps maps
 * (nic-sim/firmware/card-maps.ts): an ARRAY element's address is computed, so a lookup
 * reads nothing; a HASH lookup reads the bucket and then the entry's key; an update
 * writes the value (and, in a HASH, the bucket too); a delete writes the bucket.
 * These counts are the project's model (docs/calibration.md), not measured firmware.
 */
import type { TimingModel } from '../../caps/profile.js';
import { HelperId } from '../../xdp/helpers/helper-ids.js';
import { MAP_TYPE } from '../../xdp/maps/map-types.js';

export interface FirmwareCost {
  /** Cycles on the engine: the call and return, and the routine's own work. */
  readonly cycles: number;
  /** Commands to the map memory, in order (each one a swap-out). */
  readonly reads: number;
  readonly writes: number;
  /** Cycles the routine holds the map's lock (0: it takes none). */
  readonly lockCycles: number;
}

export function firmwareCost(helper: number, mapType: number, t: TimingModel): FirmwareCost {
  const call = t.costs.helperCall;
  const f = t.firmware;
  const hash = mapType !== MAP_TYPE.ARRAY && mapType !== MAP_TYPE.PERCPU_ARRAY;
  switch (helper) {
    case HelperId.MAP_LOOKUP_ELEM:
      return { cycles: call + f.lookupCycles, reads: hash ? 2 : 0, writes: 0, lockCycles: 0 };
    case HelperId.MAP_UPDATE_ELEM:
      return { cycles: call + f.updateCycles, reads: hash ? 2 : 0, writes: hash ? 2 : 1, lockCycles: f.lockCycles };
    case HelperId.MAP_DELETE_ELEM:
      return { cycles: call + f.deleteCycles, reads: hash ? 2 : 0, writes: hash ? 1 : 0, lockCycles: f.lockCycles };
    default: // perf_event_output: the sample written to its ring
      return { cycles: call + f.updateCycles, reads: 0, writes: 1, lockCycles: 0 };
  }
}
