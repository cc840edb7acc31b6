import { describe, expect, it } from 'vitest';
import { MAX_PARTS, MAX_PART_SIZE, MIN_PART_SIZE, SIZE_SAFETY_FACTOR, planParts } from '../src/part-plan.js';
import { s3OptionDefaults } from '../src/options.js';

const MiB = 1024 * 1024;
const GB = 1e9;
const TB = 1e12;
const defaults = { partSize: s3OptionDefaults.partSizeMiB * MiB, queueSize: s3OptionDefaults.queueSize };

/** Parts a stream of `bytes` takes with the plan's part size. */
function partsFor(bytes: number, partSize: number): number {
  return Math.ceil(bytes / partSize);
}

describe('planParts', () => {
  it('keeps the configured parts when there is no estimate', () => {
    expect(planParts(defaults)).toEqual({
      partSize: 8 * MiB,
      queueSize: 4,
      maxBytes: 8 * MiB * MAX_PARTS,
      memoryBytes: 8 * MiB * 5,
      raised: false,
    });
  });

  it('keeps the configured parts for a 1 GB database', () => {
    const plan = planParts({ ...defaults, expectedSize: 1 * GB });
    expect(plan).toMatchObject({ partSize: 8 * MiB, queueSize: 4, raised: false });
    expect(partsFor(SIZE_SAFETY_FACTOR * GB, plan.partSize)).toBeLessThan(MAX_PARTS);
  });

  it.each([
    // database size, part size (MiB), parts in flight, upload memory (MiB)
    [100 * GB, 22, 2, 66],
    [1 * TB, 212, 2, 636],
    [5 * TB, 1060, 2, 3180],
  ])('plans %d bytes into parts that stay under 10,000 even at twice the estimate', (expectedSize, partMiB, queueSize, memoryMiB) => {
    const plan = planParts({ ...defaults, expectedSize });
    expect(plan).toMatchObject({ partSize: partMiB * MiB, queueSize, memoryBytes: memoryMiB * MiB, raised: true });
    expect(partsFor(expectedSize, plan.partSize)).toBeLessThan(MAX_PARTS / 2);
    expect(partsFor(SIZE_SAFETY_FACTOR * expectedSize, plan.partSize)).toBeLessThanOrEqual(9_000);
    expect(plan.maxBytes).toBeGreaterThan(SIZE_SAFETY_FACTOR * expectedSize);
  });

  it('never goes below a larger configured part size, nor lowers its queue', () => {
    const plan = planParts({ partSize: 64 * MiB, queueSize: 3, expectedSize: 100 * GB });
    expect(plan).toMatchObject({ partSize: 64 * MiB, queueSize: 3, raised: false });
  });

  it('keeps the memory budget of the configured queue while it can, and at least 2 parts in flight', () => {
    expect(planParts({ partSize: 8 * MiB, queueSize: 8, expectedSize: 100 * GB })).toMatchObject({ partSize: 22 * MiB, queueSize: 2 });
    expect(planParts({ partSize: 8 * MiB, queueSize: 16, expectedSize: 100 * GB })).toMatchObject({ partSize: 22 * MiB, queueSize: 5 });
  });

  it('stays within what S3 allows for a part', () => {
    expect(planParts({ partSize: 1, queueSize: 1 }).partSize).toBe(MIN_PART_SIZE);
    expect(planParts({ ...defaults, expectedSize: 1e15 }).partSize).toBe(MAX_PART_SIZE);
    expect(planParts({ ...defaults, expectedSize: Number.NaN }).partSize).toBe(8 * MiB);
    expect(planParts({ ...defaults, expectedSize: -1 }).partSize).toBe(8 * MiB);
  });
});
