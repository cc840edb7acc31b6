// Azure's limits on a block blob; the planning itself (block size from the
// source's estimate, fewer blocks in flight when they grow) is plugin-api's
// planUploadParts, shared with plugin-s3's multipart uploads.
import { planUploadParts, type PartPlan, type PartPlanInput } from '@backupctl/plugin-api';
import { MAX_BLOCK_SIZE_MIB } from './options.js';

const MiB = 1024 * 1024;

/** Azure's limit on the committed blocks of one block blob. */
export const MAX_BLOCKS = 50_000;
/** Azure's largest block (service versions since 2019-12-12). */
export const MAX_BLOCK_SIZE = MAX_BLOCK_SIZE_MIB * MiB;

/**
 * Plans the upload of a stream expected to be about `expectedSize` bytes:
 * blocks big enough that twice the estimate fits in 45,000 of them, never
 * smaller than configured. 8 MiB blocks hold ~390 GiB; they grow from an
 * estimate of ~176 GiB up, and then fewer are uploaded at once so the
 * buffers stay within blockSize × (concurrency + 1), or 3 blocks.
 */
export function planBlocks(input: PartPlanInput): PartPlan {
  return planUploadParts(input, { maxParts: MAX_BLOCKS, minPartSize: MiB, maxPartSize: MAX_BLOCK_SIZE });
}
