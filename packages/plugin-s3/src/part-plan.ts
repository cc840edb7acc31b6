// How a stream of unknown length is cut into multipart-upload parts. S3
// takes at most 10,000 parts of 5 MiB to 5 GiB each, and the part writer
// holds each part in memory with a fixed size for the whole upload, so the
// size is chosen before the first byte, from the source's estimate.

const MiB = 1024 * 1024;

/** S3's limit on the parts of one multipart upload. */
export const MAX_PARTS = 10_000;
/** S3's smallest part (all but the last). */
export const MIN_PART_SIZE = 5 * MiB;
/** S3's largest part. */
export const MAX_PART_SIZE = 5 * 1024 * MiB;
/** Parts a plan aims at: a tenth of S3's limit stays spare for an estimate that was low. */
export const TARGET_PARTS = 9_000;
/**
 * How much bigger than the source's estimate the stream may turn out. A
 * plain dump can outgrow `pg_database_size`: TOAST-compressed text is
 * dumped expanded and bytea as hex, twice its size. Compression after the
 * source only widens the margin.
 */
export const SIZE_SAFETY_FACTOR = 2;
/** Parts uploaded at once when parts had to grow: enough to keep one uploading while the next fills. */
const MIN_QUEUE_WHEN_RAISED = 2;

/** The part size and concurrency one upload uses. */
export interface PartPlan {
  /** Bytes per part (a whole number of MiB). */
  partSize: number;
  /** Parts uploaded at once. */
  queueSize: number;
  /** The longest stream this plan can store: `partSize × 10,000`. A longer one fails before S3 refuses it. */
  maxBytes: number;
  /** Upload buffers at the most: the parts in flight and the one being filled (part-writer.ts). */
  memoryBytes: number;
  /** True when the estimate made the parts bigger than configured. */
  raised: boolean;
}

export interface PartPlanInput {
  /** The configured part size in bytes (`partSizeMiB`): the smallest the plan uses. */
  partSize: number;
  /** The configured number of parts in flight (`queueSize`). */
  queueSize: number;
  /** The source's estimate of the stream's length in bytes, when it has one. */
  expectedSize?: number;
}

/**
 * Plans the upload of a stream expected to be about `expectedSize` bytes:
 * parts big enough that `SIZE_SAFETY_FACTOR × expectedSize` fits in 9,000
 * of them, never smaller than configured. When parts grow, fewer are sent at
 * once (down to 2), so memory grows with the part size rather than with
 * part size × queue: at most 3 × partSize, i.e. 1/1,500 of the estimate for
 * databases over ~38 GB (8 MiB parts hold 78 GiB; with the safety factor
 * the plan raises them from an estimate of 37.7 GiB up).
 */
export function planParts(input: PartPlanInput): PartPlan {
  const configured = clamp(Math.ceil(input.partSize / MiB) * MiB, MIN_PART_SIZE, MAX_PART_SIZE);
  const expected = input.expectedSize !== undefined && Number.isFinite(input.expectedSize) && input.expectedSize > 0 ? input.expectedSize : 0;
  const needed = Math.ceil((expected * SIZE_SAFETY_FACTOR) / TARGET_PARTS / MiB) * MiB;
  const partSize = clamp(Math.max(configured, needed), MIN_PART_SIZE, MAX_PART_SIZE);
  const raised = partSize > configured;
  const budget = configured * input.queueSize;
  const queueSize = raised ? Math.max(MIN_QUEUE_WHEN_RAISED, Math.min(input.queueSize, Math.floor(budget / partSize))) : input.queueSize;
  return { partSize, queueSize, maxBytes: partSize * MAX_PARTS, memoryBytes: partSize * (queueSize + 1), raised };
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
