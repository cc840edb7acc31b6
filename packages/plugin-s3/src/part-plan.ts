// S3's limits on a multipart upload; the planning itself (part size from the
// source's estimate, fewer parts in flight when they grow) is plugin-api's
// planUploadParts, shared with the other stores that upload in parts.
import { PART_SIZE_SAFETY_FACTOR, planUploadParts, type PartPlan, type PartPlanInput } from '@backupctl/plugin-api';

export type { PartPlan, PartPlanInput } from '@backupctl/plugin-api';

const MiB = 1024 * 1024;

/** S3's limit on the parts of one multipart upload. */
export const MAX_PARTS = 10_000;
/** S3's smallest part (all but the last). */
export const MIN_PART_SIZE = 5 * MiB;
/** S3's largest part. */
export const MAX_PART_SIZE = 5 * 1024 * MiB;
/** How much bigger than the source's estimate the stream may turn out (see plugin-api). */
export const SIZE_SAFETY_FACTOR = PART_SIZE_SAFETY_FACTOR;

/**
 * Plans the upload of a stream expected to be about `expectedSize` bytes:
 * parts big enough that twice the estimate fits in 9,000 of them, never
 * smaller than configured; at most 3 × partSize of buffers once they grow,
 * i.e. 1/1,500 of the estimate for databases over ~38 GB (8 MiB parts hold
 * 78 GiB; with the safety factor the plan raises them from an estimate of
 * 37.7 GiB up).
 */
export function planParts(input: PartPlanInput): PartPlan {
  return planUploadParts(input, { maxParts: MAX_PARTS, minPartSize: MIN_PART_SIZE, maxPartSize: MAX_PART_SIZE });
}
