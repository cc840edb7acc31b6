import { Writable } from 'node:stream';
import type { CompletedPart, S3Client, StorageClass } from '@aws-sdk/client-s3';
import { isRefusal } from './errors.js';
import { s3Sdk } from './sdk.js';

/** An object to be stored in parts, and how. */
export interface PartedObject {
  client: S3Client;
  bucket: string;
  key: string;
  contentType: string;
  storageClass?: string;
  /** Bytes per part; every part but the last has exactly this size (S3: at least 5 MiB). */
  partSize: number;
  /** Most parts uploaded at once. */
  queueSize: number;
}

/** What a PartWriter needs to know about its object. */
export interface PartWriterOptions extends PartedObject {
  /** Most parts the upload may have; the writer fails with `tooManyParts()` before it would need one more. */
  maxParts: number;
  tooManyParts: () => Error;
  /** Cancels the parts and the commit on the wire (the caller aborts it on any failure). */
  requestSignal: AbortSignal;
}

/** One part on the wire. */
interface PartInFlight {
  done: Promise<void>;
}

/**
 * A Writable that stores what is written to it as one S3 object: a single
 * PutObject when everything fits in one part, otherwise a multipart upload
 * committed (CompleteMultipartUpload) only in `final`, i.e. only after the
 * input ended cleanly. It does not abort or clean up on failure: the caller
 * knows why it failed and does that (upload.ts), after `settled()`.
 *
 * Memory: part buffers are allocated only when every existing one is busy
 * (one filling, the rest on the wire) and reused after their upload, so the
 * writer holds 2 × partSize while S3 keeps up with the input and never more
 * than (queueSize + 1) × partSize. lib-storage, which this replaces, copied
 * every part into a fresh buffer; the garbage it left for the collector
 * raised the peak RSS of a run by ~40 MiB (bench/).
 */
export class PartWriter extends Writable {
  readonly #options: PartWriterOptions;
  readonly #spareBuffers: Buffer[] = [];
  readonly #inFlight = new Set<PartInFlight>();
  readonly #completed: CompletedPart[] = [];
  #buffer: Buffer | undefined;
  #filled = 0;
  #partsStarted = 0;
  #bytes = 0;
  #buffersAllocated = 0;
  #createUpload: Promise<string> | undefined;
  #partFailure: unknown;
  /** Part buffers allocated so far (the memory the writer holds is this × partSize). */
  get buffersAllocated(): number {
    return this.#buffersAllocated;
  }

  /** Bytes taken so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The multipart upload's id, once CreateMultipartUpload answered. */
  uploadId: string | undefined;
  /**
   * True once the object may exist: from the moment the request that makes it
   * visible (Complete, or the single PUT) goes out, unless S3 refused that
   * request (errors.ts, isRefusal), which stores nothing. The caller removes
   * such an object if the upload fails all the same.
   */
  objectMayExist = false;

  constructor(options: PartWriterOptions) {
    super();
    this.#options = options;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#take(chunk).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#finish().then(() => callback(), callback);
  }

  /** Resolves when no part is on the wire any more, whatever became of them. */
  async settled(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight].map((part) => part.done));
    await this.#createUpload?.catch(() => undefined);
  }

  async #take(chunk: Buffer): Promise<void> {
    this.#bytes += chunk.length;
    // Stop at the first byte that needs a part too many, before S3 refuses part 10,001.
    if (this.#bytes > this.#options.partSize * this.#options.maxParts) throw this.#options.tooManyParts();
    let offset = 0;
    while (offset < chunk.length) {
      this.#buffer ??= this.#spareBuffers.pop() ?? this.#allocateBuffer();
      const copied = chunk.copy(this.#buffer, this.#filled, offset);
      this.#filled += copied;
      offset += copied;
      if (this.#filled === this.#options.partSize) await this.#sendFullPart();
    }
  }

  /** After waiting for the wire: stop if the writer was destroyed meanwhile (its buffers are gone). */
  #throwIfDestroyed(): void {
    if (this.destroyed) throw this.errored ?? new Error('the upload was stopped');
  }

  /** Sends the filled buffer as the next part, once fewer than queueSize parts are on the wire. */
  async #sendFullPart(): Promise<void> {
    await this.#waitForFreeSlot();
    const buffer = this.#buffer as Buffer;
    this.#buffer = undefined;
    this.#filled = 0;
    this.#startPart(buffer, buffer.length, true);
  }

  /** Waits until fewer than queueSize parts are on the wire; throws if the upload failed meanwhile. */
  async #waitForFreeSlot(): Promise<void> {
    while (this.#inFlight.size >= this.#options.queueSize) await Promise.race([...this.#inFlight].map((part) => part.done));
    this.#throwIfPartFailed();
    this.#throwIfDestroyed();
  }

  #startPart(buffer: Buffer, length: number, reuse: boolean): void {
    this.#partsStarted += 1;
    const partNumber = this.#partsStarted;
    const part: PartInFlight = {
      done: this.#uploadPart(partNumber, buffer.subarray(0, length)).then(
        () => {
          this.#inFlight.delete(part);
          if (reuse) this.#spareBuffers.push(buffer);
        },
        (error: unknown) => {
          this.#inFlight.delete(part);
          this.#partFailure ??= error;
          // Nothing waits on this part until the next one is full: fail now.
          this.destroy(error instanceof Error ? error : new Error(String(error)));
        },
      ),
    };
    this.#inFlight.add(part);
  }

  async #uploadPart(partNumber: number, body: Buffer): Promise<void> {
    const uploadId = await this.#multipartUpload();
    const { client, bucket, key, requestSignal } = this.#options;
    const withChecksums = await this.#checksumsWhenSupported();
    const result = await client.send(
      new (s3Sdk().UploadPartCommand)({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        PartNumber: partNumber,
        Body: body,
        ContentLength: body.length,
        ...(withChecksums ? { ChecksumAlgorithm: s3Sdk().ChecksumAlgorithm.CRC32 } : {}),
      }),
      { abortSignal: requestSignal },
    );
    if (!result.ETag) throw new Error(`S3 answered UploadPart ${partNumber} without an ETag`);
    this.#completed.push({
      PartNumber: partNumber,
      ETag: result.ETag,
      ...(result.ChecksumCRC32 === undefined ? {} : { ChecksumCRC32: result.ChecksumCRC32 }),
    });
  }

  /** Starts the multipart upload on the first part, once; every part waits for its id. */
  #multipartUpload(): Promise<string> {
    this.#createUpload ??= (async () => {
      const { client, bucket, key, contentType, storageClass } = this.#options;
      const withChecksums = await this.#checksumsWhenSupported();
      // Never cancelled: a cancelled create may still start an upload on the
      // server, whose id we would then not know to abort it.
      const created = await client.send(
        new (s3Sdk().CreateMultipartUploadCommand)({
          Bucket: bucket,
          Key: key,
          ContentType: contentType,
          ...(storageClass === undefined ? {} : { StorageClass: storageClass as StorageClass }),
          // With checksums on (when_supported), S3 wants the upload to name the algorithm its parts carry.
          ...(withChecksums ? { ChecksumAlgorithm: s3Sdk().ChecksumAlgorithm.CRC32 } : {}),
        }),
      );
      if (created.UploadId === undefined) throw new Error('S3 answered CreateMultipartUpload without an UploadId');
      this.uploadId = created.UploadId;
      return created.UploadId;
    })();
    return this.#createUpload;
  }

  async #finish(): Promise<void> {
    const { client, bucket, key, contentType, storageClass, requestSignal } = this.#options;
    if (this.#partsStarted === 0) {
      // It all fits in one part: one PUT, no multipart upload to clean up.
      const body = this.#buffer?.subarray(0, this.#filled) ?? Buffer.alloc(0);
      await this.#commit(() =>
        client.send(
          new (s3Sdk().PutObjectCommand)({
            Bucket: bucket,
            Key: key,
            Body: body,
            ContentLength: body.length,
            ContentType: contentType,
            ...(storageClass === undefined ? {} : { StorageClass: storageClass as StorageClass }),
          }),
          { abortSignal: requestSignal },
        ),
      );
      return;
    }
    if (this.#filled > 0) {
      await this.#waitForFreeSlot();
      const buffer = this.#buffer as Buffer;
      const length = this.#filled;
      this.#buffer = undefined;
      this.#filled = 0;
      this.#startPart(buffer, length, false);
    }
    await this.settled();
    this.#throwIfPartFailed();
    this.#throwIfDestroyed();
    const uploadId = await this.#multipartUpload();
    await this.#commit(() =>
      client.send(
        new (s3Sdk().CompleteMultipartUploadCommand)({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: [...this.#completed].sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0)) },
        }),
        { abortSignal: requestSignal },
      ),
    );
  }

  /** Sends the request that makes the object visible, keeping `objectMayExist` true to S3's answer. */
  async #commit(send: () => Promise<unknown>): Promise<void> {
    // Stopped while waiting for the wire: send nothing, so no object may exist.
    this.#throwIfDestroyed();
    this.objectMayExist = true;
    try {
      await send();
    } catch (error) {
      // A refusal stored nothing; any other failure (no answer, a 5xx, an answer to a retry) may follow a commit.
      if (isRefusal(error)) this.objectMayExist = false;
      throw error;
    }
  }

  #allocateBuffer(): Buffer {
    this.#buffersAllocated += 1;
    return Buffer.allocUnsafeSlow(this.#options.partSize);
  }

  #throwIfPartFailed(): void {
    if (this.#partFailure !== undefined) throw this.#partFailure;
  }

  async #checksumsWhenSupported(): Promise<boolean> {
    return (await this.#options.client.config.requestChecksumCalculation()) === 'WHEN_SUPPORTED';
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#buffer = undefined;
    this.#spareBuffers.length = 0;
    callback(error);
  }
}
