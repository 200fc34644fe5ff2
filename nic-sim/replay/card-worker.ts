/**
 * One worker thread of a sharded card replay (card-workers.ts): its own card, loaded
 * with the image and the maps' starting memory, runs the packets of the RSS queues it
 * owns — each admitted by its engine or dropped for a full queue, run, and timed — and
 * hands back, per batch, each packet's outcome and work, and at the end its engines'
 * totals, its maps' memory and its hot spots. Replies go on the port it was given, and a
 * shared counter tells the main thread (waiting on it) that a reply is there.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { CardProfile } from '../../caps/profile.js';
import { seededRandom } from '../../xdp/runtime/helpers/helper-env.js';
import { decodeImage } from '../image/index.js';
import type { OfferedLoad } from '../timing/card-timing.js';
import { CardEngine, timingFields } from './card-engine.js';

export interface WorkerSetup {
  readonly image: Uint8Array;
  readonly profile: CardProfile;
  readonly file: string;
  readonly seed: number;
  readonly load?: OfferedLoad;
  readonly engines?: number;
  readonly threads?: number;
  readonly perPacket: boolean;
  readonly emem: Uint8Array;
  readonly port: MessagePort;
  readonly signal: Int32Array;
}

export interface WorkerPacket {
  readonly index: number;
  readonly data: Uint8Array;
  readonly engine: number;
  readonly t: number;
  readonly origLen: number;
}

/** A packet's outcome; a run packet's bytes are `length` bytes at `at` of its batch's `bytes`. */
export type WorkerOutcome =
  | { readonly dropped: string }
  | { readonly action: number; readonly at: number; readonly length: number; readonly error?: string; readonly segs: readonly number[]; readonly compute: number };

const setup = workerData as WorkerSetup;
const engine = new CardEngine(decodeImage(setup.image, setup.file), setup.profile, {
  file: setup.file, random: seededRandom(setup.seed), perPacket: setup.perPacket,
  ...(setup.load ? { load: setup.load } : {}), ...(setup.engines ? { engines: setup.engines } : {}), ...(setup.threads ? { threads: setup.threads } : {}),
});
engine.card.maps.emem.set(setup.emem);

function reply(message: unknown): void {
  setup.port.postMessage(message);
  Atomics.add(setup.signal, 0, 1);
  Atomics.notify(setup.signal, 0);
}

parentPort!.on('message', (msg: { kind: 'batch'; packets: WorkerPacket[] } | { kind: 'finish' }) => {
  try {
    if (msg.kind === 'batch') {
      // The packets' bytes go back in one buffer (one allocation a batch, not one a packet).
      let bytes = new Uint8Array(msg.packets.reduce((n, p) => n + p.data.length, 0) + 4096);
      let used = 0;
      const outcomes: WorkerOutcome[] = msg.packets.map((p) => {
        if (!engine.timing.admit(p.engine, p.t)) return { dropped: 'ingress_overflow' };
        const result = engine.runArrived(p.data, p.index, p);
        const work = engine.meter.work;
        const segs = work.segments();
        const compute = work.compute;
        const out = result.bytes();
        if (used + out.length > bytes.length) {
          const grown = new Uint8Array(2 * (used + out.length));
          grown.set(bytes.subarray(0, used));
          bytes = grown;
        }
        bytes.set(out, used);
        used += out.length;
        return { action: result.action, at: used - out.length, length: out.length, ...(result.error ? { error: result.error } : {}), segs, compute };
      });
      reply({ outcomes, bytes: bytes.subarray(0, used), done: engine.timing.drainDone().map(([i, t]) => [i, timingFields(t)]) });
    } else {
      engine.finish();
      reply({
        totals: engine.timing.totals(), done: engine.timing.drainDone().map(([i, t]) => [i, timingFields(t)]),
        emem: engine.card.maps.emem, pcCycles: engine.meter.pcCycles, pcSleep: engine.meter.pcSleep,
      });
    }
  } catch (e) {
    reply({ error: e instanceof Error ? e.message : String(e) });
  }
});
