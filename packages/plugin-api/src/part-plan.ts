// How a stream of unknown length is cut into the parts (S3) or blocks
// (Azure) of one upload. A service takes a bounded number of parts per
// object, and an uploader that holds each part in a buffer of one size for
// the whole upload must choose that size before the first byte, from the
// source's estimate. The limits are the service's; the planning is shared.

const MiB = 1024 * 1024;

/**
 * How much bigger than the source's estimate the stream may turn out. A
 * plain dump can outgrow `pg_database_size`: TOAST-compressed text is
 * dumped expanded and bytea as hex, twice its size. Compression after the
 * source only widens the margin.
 */
export const PART_SIZE_SAFETY_FACTOR = 2;
/** The share of the service's part limit a plan aims at: the rest stays spare for an estimate that was low. */
const TARGET_SHARE = 0.9;
/** Parts uploaded at once when parts had to grow: enough to keep one uploading while the next fills. */
const MIN_QUEUE_WHEN_RAISED = 2;

/** What the service allows for one upload. */
export interface PartLimits {
  /** Most parts one object may have (S3: 10,000; Azure block blobs: 50,000). */
  maxParts: number;
  /** Smallest part in bytes, all but the last (S3: 5 MiB). */
  minPartSize: number;
  /** Largest part in bytes. */
  maxPartSize: number;
}

/** The part size and concurrency one upload uses. */
export interface PartPlan {
  /** Bytes per part (a whole number of MiB). */
  partSize: number;
  /** Parts uploaded at once. */
  queueSize: number;
  /** The longest stream this plan can store: `partSize × maxParts`. A longer one must fail before the service refuses it. */
  maxBytes: number;
  /** Upload buffers at the most: the parts in flight and the one being filled. */
  memoryBytes: number;
  /** True when the estimate made the parts bigger than configured. */
  raised: boolean;
}

export interface PartPlanInput {
  /** The configured part size in bytes: the smallest the plan uses. */
  partSize: number;
  /** The configured number of parts in flight. */
  queueSize: number;
  /** The source's estimate of the stream's length in bytes, when it has one. */
  expectedSize?: number;
}

/**
 * Plans the upload of a stream expected to be about `expectedSize` bytes:
 * parts big enough that `PART_SIZE_SAFETY_FACTOR × expectedSize` fits in
 * 90% of `limits.maxParts`, never smaller than configured. When parts grow,
 * fewer are sent at once (down to 2), so memory grows with the part size
 * rather than with part size × queue: it stays within the configured
 * `partSize × queueSize` budget, or 3 parts when one part is bigger than that.
 */
export function planUploadParts(input: PartPlanInput, limits: PartLimits): PartPlan {
  const configured = clamp(Math.ceil(input.partSize / MiB) * MiB, limits.minPartSize, limits.maxPartSize);
  const expected = input.expectedSize !== undefined && Number.isFinite(input.expectedSize) && input.expectedSize > 0 ? input.expectedSize : 0;
  const targetParts = Math.floor(limits.maxParts * TARGET_SHARE);
  const needed = Math.ceil((expected * PART_SIZE_SAFETY_FACTOR) / targetParts / MiB) * MiB;
  const partSize = clamp(Math.max(configured, needed), limits.minPartSize, limits.maxPartSize);
  const raised = partSize > configured;
  const budget = configured * input.queueSize;
  const queueSize = raised ? Math.max(MIN_QUEUE_WHEN_RAISED, Math.min(input.queueSize, Math.floor(budget / partSize))) : input.queueSize;
  return { partSize, queueSize, maxBytes: partSize * limits.maxParts, memoryBytes: partSize * (queueSize + 1), raised };
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
