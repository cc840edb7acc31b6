import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { BlockBlobClient } from '@azure/storage-blob';
import { isRefusal } from './errors.js';

/** What of a BlockBlobClient the writer uses, so tests may pass a recording stand-in. */
export type BlockTarget = Pick<BlockBlobClient, 'stageBlock' | 'commitBlockList' | 'upload'>;

/** The blob to be stored in blocks, and how. */
export interface BlockWriterOptions {
  blob: BlockTarget;
  contentType: string;
  accessTier?: 'Hot' | 'Cool' | 'Cold' | 'Archive';
  /** Bytes per block; every block but the last has exactly this size. */
  blockSize: number;
  /** Most blocks uploaded at once. */
  concurrency: number;
  /** Most blocks the blob may have; the writer fails with `tooManyBlocks()` before it would need one more. */
  maxBlocks: number;
  tooManyBlocks: () => Error;
  /** Cancels the blocks and the commit on the wire (the caller aborts it on any failure). */
  requestSignal: AbortSignal;
}

/** One block on the wire. */
interface BlockInFlight {
  done: Promise<void>;
}

/**
 * A Writable that stores what is written to it as one block blob: a single
 * Put Blob when everything fits in one block, otherwise Put Block for each
 * block as it fills and Put Block List (the commit) only in `final`, i.e.
 * only after the input ended cleanly. Before the commit the blob does not
 * exist for readers (or keeps its old content); staged blocks that are never
 * committed are discarded by Azure after a week, and there is no call to
 * drop them sooner. It does not clean up on failure: the caller does that
 * (upload.ts), after `settled()`.
 *
 * Memory: block buffers are allocated only when every existing one is busy
 * and reused after their upload, so the writer holds 2 × blockSize while
 * Azure keeps up and never more than (concurrency + 1) × blockSize.
 */
export class BlockWriter extends Writable {
  readonly #options: BlockWriterOptions;
  readonly #spareBuffers: Buffer[] = [];
  readonly #inFlight = new Set<BlockInFlight>();
  readonly #blockIds: string[] = [];
  /** Fixed per upload, so no block of an earlier failed upload of the same name can be committed by mistake. */
  readonly #nonce = randomBytes(6).toString('hex');
  #buffer: Buffer | undefined;
  #filled = 0;
  #bytes = 0;
  #buffersAllocated = 0;
  #blockFailure: unknown;

  /** True once the blob may exist: from the moment the commit (or the single Put Blob) goes out, unless Azure refused it. */
  objectMayExist = false;

  constructor(options: BlockWriterOptions) {
    super();
    this.#options = options;
  }

  /** Block buffers allocated so far (the memory the writer holds is this × blockSize). */
  get buffersAllocated(): number {
    return this.#buffersAllocated;
  }

  /** Bytes taken so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Blocks staged or being staged so far. */
  get blocksStarted(): number {
    return this.#blockIds.length;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#take(chunk).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#finish().then(() => callback(), callback);
  }

  /** Resolves when no block is on the wire any more, whatever became of them. */
  async settled(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight].map((block) => block.done));
  }

  async #take(chunk: Buffer): Promise<void> {
    this.#bytes += chunk.length;
    // Stop at the first byte that needs a block too many, before Azure refuses the commit.
    if (this.#bytes > this.#options.blockSize * this.#options.maxBlocks) throw this.#options.tooManyBlocks();
    let offset = 0;
    while (offset < chunk.length) {
      this.#buffer ??= this.#spareBuffers.pop() ?? this.#allocateBuffer();
      const copied = chunk.copy(this.#buffer, this.#filled, offset);
      this.#filled += copied;
      offset += copied;
      if (this.#filled === this.#options.blockSize) await this.#sendBuffer(true);
    }
  }

  /** Stages the filled buffer as the next block, once fewer than `concurrency` are on the wire. */
  async #sendBuffer(reuse: boolean): Promise<void> {
    while (this.#inFlight.size >= this.#options.concurrency) await Promise.race([...this.#inFlight].map((block) => block.done));
    this.#throwIfFailed();
    const buffer = this.#buffer as Buffer;
    const length = this.#filled;
    this.#buffer = undefined;
    this.#filled = 0;
    const id = Buffer.from(`${this.#nonce}-${String(this.#blockIds.length).padStart(6, '0')}`).toString('base64');
    this.#blockIds.push(id);
    const block: BlockInFlight = {
      done: this.#options.blob.stageBlock(id, buffer.subarray(0, length), length, { abortSignal: this.#options.requestSignal }).then(
        () => {
          this.#inFlight.delete(block);
          if (reuse) this.#spareBuffers.push(buffer);
        },
        (error: unknown) => {
          this.#inFlight.delete(block);
          this.#blockFailure ??= error;
          // Nothing waits on this block until the next one is full: fail now.
          this.destroy(error instanceof Error ? error : new Error(String(error)));
        },
      ),
    };
    this.#inFlight.add(block);
  }

  async #finish(): Promise<void> {
    const { blob, contentType, accessTier, requestSignal } = this.#options;
    const headers = { blobHTTPHeaders: { blobContentType: contentType }, ...(accessTier === undefined ? {} : { tier: accessTier }) };
    if (this.#blockIds.length === 0) {
      // It all fits in one block: one Put Blob, as atomic as a commit.
      const body = this.#buffer?.subarray(0, this.#filled) ?? Buffer.alloc(0);
      await this.#commit(() => blob.upload(body, body.length, { ...headers, abortSignal: requestSignal }));
      return;
    }
    if (this.#filled > 0) await this.#sendBuffer(false);
    await this.settled();
    this.#throwIfFailed();
    await this.#commit(() => blob.commitBlockList(this.#blockIds, { ...headers, abortSignal: requestSignal }));
  }

  /** Sends the request that makes the blob visible, keeping `objectMayExist` true to Azure's answer. */
  async #commit(send: () => Promise<unknown>): Promise<void> {
    this.#throwIfFailed();
    this.objectMayExist = true;
    try {
      await send();
    } catch (error) {
      if (isRefusal(error)) this.objectMayExist = false;
      throw error;
    }
  }

  #throwIfFailed(): void {
    if (this.#blockFailure !== undefined) throw this.#blockFailure;
    // Stopped while waiting for the wire: its buffers are gone, send nothing more.
    if (this.destroyed) throw this.errored ?? new Error('the upload was stopped');
  }

  #allocateBuffer(): Buffer {
    this.#buffersAllocated += 1;
    return Buffer.allocUnsafeSlow(this.#options.blockSize);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#buffer = undefined;
    this.#spareBuffers.length = 0;
    callback(error);
  }
}
