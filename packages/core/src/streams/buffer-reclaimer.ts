/**
 * Frees dead Buffers while a backup or a restore streams, so memory stays
 * flat and low.
 *
 * A pipeline churns through Buffers (pg_dump's 64 KiB reads, compressed
 * members, HTTP chunks) much faster than it allocates JS objects. V8 frees a
 * dead Buffer's memory when a young-generation collection finds it, but it
 * runs those by JS allocation, so hundreds of MB of data can pass between
 * two; dead Buffers then pile up until the external-memory limit forces a
 * full collection (~30 MiB of a run's peak RSS, bench/). A minor collection
 * of a small young generation takes well under a millisecond, so one per
 * 4 MiB of data costs nothing measurable (8 MiB measured 4 MiB more RSS,
 * 2 MiB no less).
 *
 * Only a host that owns its process should pace V8's collector: the CLI
 * hands one in (cli/young-generation-collector.ts). A program that embeds
 * the library keeps V8's own pacing.
 */

/** Source bytes between two collections. */
export const RECLAIM_EVERY_BYTES = 4 * 1024 * 1024;

let collectYoungGeneration: (() => void) | undefined;

/** Lets the engine run `collect` (a minor GC) as data flows; undefined turns it off. */
export function setYoungGenerationCollector(collect: (() => void) | undefined): void {
  collectYoungGeneration = collect;
}

/** A counter for one stream: call it with each chunk's length. */
export function bufferReclaimer(): (bytes: number) => void {
  let sinceLast = 0;
  return (bytes) => {
    if (collectYoungGeneration === undefined) return;
    sinceLast += bytes;
    if (sinceLast < RECLAIM_EVERY_BYTES) return;
    sinceLast = 0;
    collectYoungGeneration();
  };
}
