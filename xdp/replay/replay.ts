/**
 * Replaying a capture through an XDP packet engine (the host machine, or the
 * kernel through BPF_PROG_TEST_RUN): every record read is either run and
 * counted under the action the program chose, or skipped and counted under a
 * reason — never lost. Packets leave as the program left them, into one pcap
 * per action; a JSON line per packet can be traced.
 */
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { makeOutputDir, writeFailure } from '../output/output-paths.js';
import { join } from 'node:path';
import { describeCut, openCapture } from '../pcap/capture.js';
import type { CaptureRecord, CaptureStats } from '../pcap/capture-record.js';
import { LINKTYPE_ETHERNET, openPcapFile, type PcapFileWriter } from '../pcap/pcap-writer.js';
import { XDP_ACTION_NAMES } from '../runtime/helpers/xdp-helpers.js';
import type { ActionName, PacketMeta, PacketResult } from '../runtime/xdp-machine.js';
import { ETH_HLEN, XDP_MAX_PACKET } from '../runtime/xdp-buff.js';

/** Anything that can take one packet: the host machine, the kernel oracle, a simulated card. */
export interface PacketEngine {
  run(packet: Uint8Array, index: number, meta?: PacketMeta): PacketResult;
  /**
   * A device in front of the program (a card's full ingress queue) may not take a
   * packet: the reason it is dropped before the program, counted apart from actions.
   */
  admit?(rec: CaptureRecord): string | undefined;
  /**
   * `admit` and `run` in one (an engine that does both in one step, a card's packet path):
   * the reason the packet was dropped before the program, or its result.
   */
  offer?(rec: CaptureRecord, index: number, meta?: PacketMeta): PacketResult | string;
  /**
   * Figures for a packet's trace line known only later (a card's timing, once the
   * packet has left): undefined while not yet known. The replay holds trace lines
   * back, in order, until they are.
   */
  traceFields?(index: number): Record<string, unknown> | undefined;
  /** The capture has ended: everything still in flight completes. */
  finish?(): void;
  /**
   * Engines that hand packets to worker threads take them in batches, in capture order,
   * instead of through `admit` and `run`: `submitBatch` sends one off, and `collectBatch`
   * gives the outcomes of the oldest batch not yet collected — for each packet, the
   * program's result or why it was dropped before the program — waiting for them if need
   * be. The replay keeps BATCHES_IN_FLIGHT batches out, so that it reads and sends the
   * next while the workers run the last. A result is valid until the next collect.
   */
  submitBatch?(recs: readonly CaptureRecord[]): void;
  collectBatch?(): BatchOutcomes;
}

/** What became of the packets of a batch, by position (read in order; a result is valid until the next is read). */
export interface BatchOutcomes {
  /** Why packet k was dropped before the program, or undefined when it ran. */
  dropped(k: number): string | undefined;
  /** Packet k's result, when it ran. */
  result(k: number): PacketResult;
}

/** Records an engine with `submitBatch` is given at once, and batches it may hold at once. */
export const BATCH = 4096;
export const BATCHES_IN_FLIGHT = 2;

export interface ReplayOptions {
  readonly capture: string;
  /** Directory for {pass,tx,redirect,drop,aborted}.pcap. */
  readonly outDir?: string;
  /** File for one JSON line per packet. */
  readonly traceFile?: string;
  /** Packets are spread over this many CPUs, round robin (per-CPU maps, get_smp_processor_id). */
  readonly cpus?: number;
  /**
   * Called every `progressEvery` packets, and once at the end, with the packets run so far and how
   * far into the capture file the replay has read (bytes of `size`).
   */
  readonly onProgress?: (packets: number, position: number, size: number) => void;
  readonly progressEvery?: number;
}

export interface ReplaySummary {
  /** Records in the capture: run + dropped + skipped. */
  packets: number;
  actions: Record<ActionName, number>;
  /** Packets the device dropped before the program ran, by reason (`ingress_overflow`). */
  dropped: Record<string, number>;
  /** Records not run, all reasons. */
  skipped: number;
  skippedByReason: Record<string, number>;
  /** Why packets were aborted by a failed run, with counts. */
  abortReasons: Record<string, number>;
  /** Packets redirected, by target. */
  redirects: Record<string, number>;
  /** Wall time of the replay loop, in milliseconds. */
  elapsedMs: number;
  /** Reading stopped early at this error (the packets before it are counted). */
  captureError?: string;
  /** The capture was cut short inside its last record (that record is counted as skipped). */
  captureWarning?: string;
  /**
   * Outputs that failed while the replay ran (a full disk): each names its file and what was lost.
   * The replay goes on without them; the other outputs and the counts are unaffected.
   */
  outputFailures: string[];
}

const OUTPUT_FILES: Readonly<Record<ActionName, string>> = {
  XDP_ABORTED: 'aborted.pcap', XDP_DROP: 'drop.pcap', XDP_PASS: 'pass.pcap', XDP_TX: 'tx.pcap', XDP_REDIRECT: 'redirect.pcap',
};

/**
 * A capture time as the 32-bit fields of a pcap record can hold it: an out-of-range fraction
 * carried into the seconds, seconds wrapped modulo 2^32 (captures past 2106, negative offsets).
 */
export function pcapTime(tsSec: number, tsNsec: number): [number, number] {
  const sec = tsSec + Math.floor(tsNsec / 1e9);
  return [((sec % 2 ** 32) + 2 ** 32) % 2 ** 32, ((tsNsec % 1e9) + 1e9) % 1e9];
}

export function replayCapture(engine: PacketEngine, opts: ReplayOptions): ReplaySummary {
  const actions = Object.fromEntries(XDP_ACTION_NAMES.map((n) => [n, 0])) as Record<ActionName, number>;
  const skippedByReason: Record<string, number> = {};
  const abortReasons: Record<string, number> = {};
  const redirects: Record<string, number> = {};
  const skip = (reason: string) => (skippedByReason[reason] = (skippedByReason[reason] ?? 0) + 1);
  const capture = openCapture(opts.capture);
  const outputFailures: string[] = [];
  const writers = new Map<ActionName, PcapFileWriter>();
  let trace: number | undefined;
  let traceBuf: string[] = [];
  /** Trace lines waiting for the engine's figures (engines with traceFields), in packet order. */
  const held: { i: number; line: Record<string, unknown>; final: boolean }[] = [];
  let heldHead = 0;
  const dropped: Record<string, number> = {};
  let run = 0;
  let traced = 0;
  const flushTrace = () => {
    if (trace !== undefined && traceBuf.length > 0) {
      try {
        writeSync(trace, traceBuf.join(''));
      } catch (e) {
        outputFailures.push(`${writeFailure(opts.traceFile!, e).message}; the trace holds only the first ${traced - traceBuf.length} packets`);
        closeQuietly(trace);
        trace = undefined;
      }
    }
    traceBuf = [];
  };
  // All five captures are written, empty ones included, under temporary names renamed at the end, so
  // a reused directory never mixes two runs' files. One that fails (a full disk) is dropped and reported.
  const tmpName = (a: ActionName) => join(opts.outDir!, `.${OUTPUT_FILES[a]}.${process.pid}.tmp`);
  const dropWriter = (a: ActionName, e: unknown) => {
    outputFailures.push(`${writeFailure(join(opts.outDir!, OUTPUT_FILES[a]), e).message}; not written`);
    try {
      writers.get(a)?.close();
    } catch {
      // the same failure again: already reported
    }
    writers.delete(a);
    rmSync(tmpName(a), { force: true });
  };
  if (opts.outDir) {
    makeOutputDir(opts.outDir);
    for (const a of XDP_ACTION_NAMES) writers.set(a, openPcapFile(tmpName(a), { linkType: LINKTYPE_ETHERNET, nanosecond: true }));
  }
  if (opts.traceFile) trace = openSync(opts.traceFile, 'w');
  const traceLine = (line: Record<string, unknown>) => {
    traceBuf.push(`${JSON.stringify(line)}\n`);
    traced++;
    if (traceBuf.length >= 4096) flushTrace();
  };
  /** Lines whose figures are known leave the hold, in order; at the end (`all`) every one does. */
  const release = (all: boolean) => {
    while (heldHead < held.length) {
      const h = held[heldHead]!;
      const more = h.final ? {} : engine.traceFields!(h.i);
      if (more === undefined && !all) break;
      if (trace !== undefined) traceLine({ ...h.line, ...more });
      heldHead++;
    }
    if (heldHead > 4096 && heldHead * 2 > held.length) {
      held.splice(0, heldHead);
      heldHead = 0;
    }
  };
  /** A packet's line; `final`: it has no figures to wait for (dropped before the program). */
  const emit = (i: number, line: Record<string, unknown>, final = false) => {
    if (engine.traceFields !== undefined) {
      held.push({ i, line, final });
      release(false);
    } else if (trace !== undefined) {
      traceLine(line);
    }
  };
  const tracing = opts.traceFile !== undefined;
  const cpus = opts.cpus ?? 1;
  // One record for every packet's metadata (engines read it during run and keep nothing of it).
  const packetMeta = { cpu: 0, rxQueueIndex: 0, ingressIfindex: 1, tsSec: 0, tsNsec: 0 };
  const meta = (rec: CaptureRecord): PacketMeta => {
    packetMeta.cpu = rec.index % cpus;
    packetMeta.tsSec = rec.tsSec;
    packetMeta.tsNsec = rec.tsNsec;
    return packetMeta;
  };
  const refuse = (rec: CaptureRecord, reason: string) => {
    dropped[reason] = (dropped[reason] ?? 0) + 1;
    if (tracing) emit(rec.index, { i: rec.index, dropped: reason, in_len: rec.capLen }, true);
  };
  /** A packet the program ran: counted, written under its action, traced. */
  const ran = (rec: CaptureRecord, result: PacketResult) => {
    const i = rec.index;
    run++;
    actions[result.actionName]++;
    if (result.error) abortReasons[result.error] = (abortReasons[result.error] ?? 0) + 1;
    if (result.redirect) {
      const r = result.redirect;
      const key = r.kind === 'ifindex' ? `ifindex ${r.ifindex}` : `${r.map}[${r.key}]`;
      redirects[key] = (redirects[key] ?? 0) + 1;
    }
    const w = writers.get(result.actionName);
    if (w !== undefined) {
      const [sec, ns] = pcapTime(rec.tsSec, rec.tsNsec);
      try {
        w.write(result.bytes(), sec, ns, result.length);
      } catch (e) {
        dropWriter(result.actionName, e);
      }
    }
    if (tracing) {
      emit(i, {
        i, action: result.actionName, len: result.length, in_len: rec.capLen,
        ...(result.redirect ? { redirect: result.redirect } : {}),
        ...(result.error ? { error: result.error } : {}),
      });
    }
  };
  /** Engines that take packets in batches (worker threads): records wait here, then go in order. */
  const batched = engine.submitBatch !== undefined;
  let batch: CaptureRecord[] = [];
  const inFlight: CaptureRecord[][] = [];
  let arena = new Uint8Array(0);
  let arenaUsed = 0;
  /** The oldest batch out: its outcomes taken, in order. */
  const collect = () => {
    const recs = inFlight.shift()!;
    const outcomes = engine.collectBatch!();
    recs.forEach((rec, k) => {
      const why = outcomes.dropped(k);
      if (why !== undefined) refuse(rec, why);
      else ran(rec, outcomes.result(k));
    });
    opts.onProgress?.(run, capture.position, capture.size);
  };
  const flushBatch = () => {
    if (batch.length === 0) return;
    engine.submitBatch!(batch);
    inFlight.push(batch);
    batch = [];
    if (inFlight.length >= BATCHES_IN_FLIGHT) collect();
  };
  const every = opts.progressEvery ?? 10000;
  const started = performance.now();
  let captureError: string | undefined;
  try {
    try {
      for (const rec of capture) {
        const i = rec.index;
        if (rec.linkType !== LINKTYPE_ETHERNET) {
          skip(`link type ${rec.linkType} is not Ethernet`);
          continue;
        }
        if (rec.capLen < ETH_HLEN) {
          skip('shorter than an Ethernet header');
          continue;
        }
        if (rec.capLen > XDP_MAX_PACKET) {
          skip(`longer than an XDP test run takes (${XDP_MAX_PACKET} bytes: frame and fragments)`);
          continue;
        }
        if (batched) {
          // The record's bytes are a view into the reader's window: a batch keeps its own copy, in
          // a buffer shared by many records and never reused (allocating one array a packet costs
          // more than the copy), so that batches still out keep theirs.
          if (arenaUsed + rec.capLen > arena.length) {
            arena = new Uint8Array(Math.max(1 << 20, rec.capLen));
            arenaUsed = 0;
          }
          arena.set(rec.data, arenaUsed);
          batch.push({ ...rec, data: arena.subarray(arenaUsed, arenaUsed + rec.capLen) });
          arenaUsed += rec.capLen;
          if (batch.length >= BATCH) flushBatch();
          continue;
        }
        const out = engine.offer ? engine.offer(rec, i, meta(rec)) : engine.admit?.(rec) ?? engine.run(rec.data, i, meta(rec));
        if (typeof out === 'string') {
          refuse(rec, out);
          continue;
        }
        ran(rec, out);
        if (opts.onProgress && run % every === 0) opts.onProgress(run, capture.position, capture.size);
      }
    } catch (e) {
      const cerr = (capture.stats as CaptureStats).errors[0];
      if (!cerr) throw e;
      captureError = cerr.message;
    }
    // The records read before the end (or before a broken record) still run.
    if (batched) {
      flushBatch();
      while (inFlight.length > 0) collect();
    }
  } catch (e) {
    // A failed replay leaves no half-written captures behind.
    if (opts.outDir) for (const a of XDP_ACTION_NAMES) rmSync(tmpName(a), { force: true });
    throw e;
  } finally {
    engine.finish?.();
    if (engine.traceFields !== undefined) release(true);
    flushTrace();
    if (trace !== undefined) closeSync(trace);
    for (const [a, w] of [...writers]) {
      try {
        w.close();
      } catch (e) {
        dropWriter(a, e);
      }
    }
  }
  for (const a of writers.keys()) renameSync(tmpName(a), join(opts.outDir!, OUTPUT_FILES[a]));
  opts.onProgress?.(run, capture.position, capture.size);
  const stats = capture.stats as CaptureStats;
  const ours = Object.values(skippedByReason).reduce((a, b) => a + b, 0);
  const refused = Object.values(dropped).reduce((a, b) => a + b, 0);
  if (stats.read !== run + ours + refused) {
    throw new Error(`replay lost count: the capture yielded ${stats.read} records but ${run} ran, ${refused} were dropped before the program and ${ours} were skipped`);
  }
  for (const [reason, n] of Object.entries(stats.skipped)) skippedByReason[`capture: ${reason}`] = n ?? 0;
  const skipped = Object.values(skippedByReason).reduce((a, b) => a + b, 0);
  return {
    packets: run + refused + skipped,
    actions, dropped, skipped, skippedByReason, abortReasons, redirects,
    elapsedMs: performance.now() - started,
    ...(captureError ? { captureError } : {}),
    ...(stats.cut ? { captureWarning: describeCut(stats.cut) } : {}),
    outputFailures,
  };
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // closing after a failed write: the failure is what gets reported
  }
}
