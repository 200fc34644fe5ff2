/**
 * The I/O half of the fast capture readers: a file read in large chunks into one
 * reused buffer (`ChunkWindow`), and `CaptureReader`, which drives a format
 * decoder over it and offers the records three ways — a synchronous iterator
 * (blocking reads; the fastest), an asynchronous iterator (reads through the
 * event loop; one promise per record), and `batches()` (asynchronous, one array
 * per chunk; nearly the synchronous speed without blocking).
 *
 * A decoder (pcap-reader.ts, pcapng-reader.ts) only ever looks at the bytes in
 * the window. When the next record is not wholly there it answers NEED_MORE and
 * the driver refills: the unread tail (the one record straddling the chunk end)
 * is moved to the front of the buffer and the rest of the buffer is filled from
 * the file. So memory is the one buffer, whatever the size of the capture, and
 * the only bytes copied are those of the straddling records.
 */
import { closeSync, fstatSync, openSync, read, readSync } from 'node:fs';
import {
  CaptureError,
  type CaptureReadOptions,
  type CaptureRecord,
  type CaptureStats,
} from './capture-record.js';

export const DEFAULT_CHUNK_BYTES = 1 << 20;

/** A decoder's answer when the window does not hold the whole next record yet. */
export const NEED_MORE: unique symbol = Symbol('need-more');
/** A decoder's answer when the file holds no more records. */
export const END: unique symbol = Symbol('end');
export type StepResult = CaptureRecord | typeof NEED_MORE | typeof END;

/** What a format decoder provides: the next record, or what it needs to find one. */
export interface RecordDecoder {
  /**
   * Decodes the next record from the window, passing over (and counting) skipped
   * ones. Throws CaptureError when reading cannot go on.
   */
  step(): StepResult;
}

/** The part of the file currently in memory: `bytes[pos, end)` is unread, `bytes[0]` is file offset `base`. */
export class ChunkWindow {
  readonly name: string;
  /** File size when it was opened; reads stop there. */
  readonly size: number;
  readonly buffer: ArrayBuffer;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  pos = 0;
  end = 0;
  base = 0;
  /** Every byte of the file up to `size` has been loaded (or a read returned nothing). */
  eof = false;
  // the pending read request, filled in by beginRead()
  readAt = 0;
  readLength = 0;
  readPosition = 0;

  constructor(name: string, size: number, capacity: number) {
    this.name = name;
    this.size = size;
    this.buffer = new ArrayBuffer(capacity);
    this.bytes = new Uint8Array(this.buffer);
    this.view = new DataView(this.buffer);
    this.eof = size === 0;
  }

  get capacity(): number {
    return this.buffer.byteLength;
  }

  /** Unread bytes in memory. */
  get avail(): number {
    return this.end - this.pos;
  }

  /** File offset of buffer position `pos`. */
  offsetOf(pos: number): number {
    return this.base + pos;
  }

  /**
   * Moves the unread tail to the front of the buffer and sets up a read that
   * fills the rest (readAt, readLength, readPosition).
   */
  beginRead(): void {
    const { pos, end } = this;
    if (pos > 0) {
      if (end > pos) this.bytes.copyWithin(0, pos, end);
      this.base += pos;
      this.end = end - pos;
      this.pos = 0;
    }
    this.readAt = this.end;
    this.readPosition = this.base + this.end;
    this.readLength = Math.min(this.capacity - this.end, Math.max(0, this.size - this.readPosition));
    if (this.readLength === 0 && !this.eof) {
      if (this.readPosition >= this.size) {
        this.eof = true;
      } else {
        // A decoder asked for more than the buffer holds: the capacity checks failed.
        throw new Error(`capture reader: ${this.name}: a record at offset ${this.base} does not fit the ${this.capacity}-byte buffer`);
      }
    }
  }

  /** Takes note of `n` bytes read by the request beginRead() set up. */
  commitRead(n: number): void {
    this.end += n;
    if (n === 0 || this.base + this.end >= this.size) this.eof = true;
  }

  /** Drops everything and continues reading at file offset `offset`. */
  skipTo(offset: number): void {
    this.base = offset;
    this.pos = 0;
    this.end = 0;
    this.eof = offset >= this.size;
  }
}

/** An open file and its window; `capacity` is at least `minCapacity`. */
export interface OpenSource {
  fd: number;
  window: ChunkWindow;
}

/** Opens `path` for reading and loads its first chunk (synchronously). */
export function openSource(path: string, options: CaptureReadOptions, minCapacity: number): OpenSource {
  const name = options.name ?? path;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new CaptureError(`cannot open: ${(e as Error).message}`, { file: name });
  }
  try {
    const size = fstatSync(fd).size;
    const capacity = Math.max(options.chunkBytes ?? DEFAULT_CHUNK_BYTES, minCapacity);
    const window = new ChunkWindow(name, size, capacity);
    fillSync(fd, window);
    return { fd, window };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** One blocking refill. */
export function fillSync(fd: number, w: ChunkWindow): void {
  w.beginRead();
  if (w.readLength === 0) return;
  w.commitRead(readSync(fd, w.bytes, w.readAt, w.readLength, w.readPosition));
}

/** One refill through the event loop. */
export function fillAsync(fd: number, w: ChunkWindow): Promise<void> {
  w.beginRead();
  if (w.readLength === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    read(fd, w.bytes, w.readAt, w.readLength, w.readPosition, (err, n) => {
      if (err) reject(err);
      else {
        w.commitRead(n);
        resolve();
      }
    });
  });
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * Records of one open capture file. Iterate it once, synchronously
 * (`for (const r of reader)`), asynchronously (`for await`), or by batches;
 * the forms share one position, so mixing them continues where the last left
 * off. The file is closed at the end, on an error, when a loop is left early
 * (`break`), or by `close()`.
 *
 * Unless opened with `{ copy: true }`, a record's `data` is a view into the
 * reused buffer, valid until the next record (or, with `batches()`, the next
 * batch) is requested.
 */
export class CaptureReader implements Iterable<CaptureRecord>, AsyncIterable<CaptureRecord> {
  readonly name: string;
  readonly stats: CaptureStats;
  private fd: number;
  private readonly window: ChunkWindow;
  private readonly decoder: RecordDecoder;
  private finished = false;
  private filling: Promise<void> | undefined;

  constructor(source: OpenSource, decoder: RecordDecoder, stats: CaptureStats) {
    this.fd = source.fd;
    this.window = source.window;
    this.name = source.window.name;
    this.decoder = decoder;
    this.stats = stats;
  }

  /** The next record, or undefined at the end of the file (blocking reads). */
  readNext(): CaptureRecord | undefined {
    if (this.finished) return undefined;
    try {
      for (;;) {
        const r = this.decoder.step();
        if (r === NEED_MORE) {
          fillSync(this.fd, this.window);
          continue;
        }
        if (r === END) {
          this.close();
          return undefined;
        }
        return r;
      }
    } catch (e) {
      this.close();
      throw e;
    }
  }

  [Symbol.iterator](): Iterator<CaptureRecord, undefined> {
    return {
      next: (): IteratorResult<CaptureRecord, undefined> => {
        const r = this.readNext();
        return r === undefined ? DONE : { done: false, value: r };
      },
      return: (): IteratorResult<CaptureRecord, undefined> => {
        this.close();
        return DONE;
      },
    };
  }

  /** The next record, or undefined at the end, reading through the event loop. */
  nextAsync(): Promise<CaptureRecord | undefined> {
    return this.stepAsync().then((r) => (r.done ? undefined : r.value));
  }

  /** One step of the asynchronous iterator: a record already in the buffer costs one resolved promise. */
  private stepAsync(): Promise<IteratorResult<CaptureRecord, undefined>> {
    if (this.filling !== undefined) return this.filling.then(() => this.stepAsync());
    if (this.finished) return Promise.resolve(DONE);
    try {
      const r = this.decoder.step();
      if (r === NEED_MORE) {
        this.filling = fillAsync(this.fd, this.window).then(
          () => {
            this.filling = undefined;
          },
          (e: unknown) => {
            this.filling = undefined;
            this.close();
            throw e;
          },
        );
        return this.filling.then(() => this.stepAsync());
      }
      if (r === END) {
        this.close();
        return Promise.resolve(DONE);
      }
      return Promise.resolve({ done: false, value: r });
    } catch (e) {
      this.close();
      return Promise.reject(e);
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<CaptureRecord, undefined> {
    return {
      next: (): Promise<IteratorResult<CaptureRecord, undefined>> => this.stepAsync(),
      return: (): Promise<IteratorResult<CaptureRecord, undefined>> => {
        this.close();
        return Promise.resolve(DONE);
      },
    };
  }

  /**
   * The records in arrays, one array per chunk read (at most `maxBatch` each),
   * reading through the event loop. Each record's `data` (unless `copy`) is valid
   * until the next batch is requested. The fast way to consume a capture from
   * asynchronous code.
   */
  async *batches(maxBatch = 4096): AsyncGenerator<CaptureRecord[], void, undefined> {
    try {
      while (!this.finished) {
        const batch: CaptureRecord[] = [];
        let end = false;
        while (batch.length < maxBatch) {
          const r = this.decoder.step();
          if (r === NEED_MORE) {
            if (batch.length > 0) break;
            await fillAsync(this.fd, this.window);
            continue;
          }
          if (r === END) {
            end = true;
            break;
          }
          batch.push(r);
        }
        if (end) this.close();
        if (batch.length > 0) yield batch;
      }
    } finally {
      this.close();
    }
  }

  /** Reads to the end, calling `fn` per record (blocking reads); returns the statistics. */
  forEach(fn: (record: CaptureRecord) => void): CaptureStats {
    for (let r = this.readNext(); r !== undefined; r = this.readNext()) fn(r);
    return this.stats;
  }

  /** Closes the file; later reads yield nothing. Safe to call more than once. */
  close(): void {
    if (this.finished) return;
    this.finished = true;
    closeSync(this.fd);
    this.fd = -1;
  }

  /** File offset up to which records have been decoded: with `size`, how far a replay has got. */
  get position(): number {
    return this.finished ? this.window.size : this.window.offsetOf(this.window.pos);
  }

  /** Size of the file when it was opened. */
  get size(): number {
    return this.window.size;
  }

  /** True once the end was reached, reading failed, or close() was called. */
  get closed(): boolean {
    return this.finished;
  }
}
