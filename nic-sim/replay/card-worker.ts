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
import { OutcomeBatchBuilder, buffersOf, type PacketBatch } from './worker-batch.js';

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

const setup = workerData as WorkerSetup;
const engine = new CardEngine(decodeImage(setup.image, setup.file), setup.profile, {
  file: setup.file, random: seededRandom(setup.seed), perPacket: setup.perPacket,
  ...(setup.load ? { load: setup.load } : {}), ...(setup.engines ? { engines: setup.engines } : {}), ...(setup.threads ? { threads: setup.threads } : {}),
});
engine.card.maps.emem.set(setup.emem);

function reply(message: unknown, transfer: ArrayBuffer[] = []): void {
  setup.port.postMessage(message, transfer);
  Atomics.add(setup.signal, 0, 1);
  Atomics.notify(setup.signal, 0);
}

parentPort!.on('message', (msg: { kind: 'batch'; batch: PacketBatch } | { kind: 'finish' }) => {
  try {
    if (msg.kind === 'batch') {
      const b = msg.batch;
      const out = new OutcomeBatchBuilder(b.count);
      const arrival = { engine: 0, t: 0, origLen: 0 };
      for (let k = 0; k < b.count; k++) {
        arrival.engine = b.engine[k]!;
        arrival.t = b.t[k]!;
        arrival.origLen = b.origLen[k]!;
        if (!engine.timing.admit(arrival.engine, arrival.t)) {
          out.dropped();
          continue;
        }
        const result = engine.runArrived(b.bytes.subarray(b.offset[k]!, b.offset[k + 1]!), b.index[k]!, arrival);
        const work = engine.meter.work;
        out.ran(result.action, result.bytes(), result.error, work.compute, work.segs, work.n);
      }
      const outcomes = out.build();
      reply({ outcomes, done: engine.timing.drainDone().map(([i, t]) => [i, timingFields(t)]) }, buffersOf(outcomes));
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
