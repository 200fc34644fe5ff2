/** Every fixture program `offload check` calls offloadable on a profile, with its object. */
import { basename } from 'node:path';
import type { CardProfile } from '../../caps/profile.js';
import { decideOffload } from '../../offload/rules/decide.js';
import type { Program } from '../../xdp/object/bpf-object.js';
import { findPrograms, loadObjectFile, type LoadedObject } from '../../xdp/object/load-object.js';
import { fixtureObjects } from './paths.js';

export function offloadableFixtures(profile: CardProfile): { name: string; obj: LoadedObject; program: Program }[] {
  return fixtureObjects().flatMap((file) => {
    const obj = loadObjectFile(file);
    return findPrograms(obj)
      .filter((p) => decideOffload(obj, p, profile, { privileged: true }).verdict === 'offload')
      .map((program) => ({ name: `${basename(file)}:${program.name}`, obj, program }));
  });
}
