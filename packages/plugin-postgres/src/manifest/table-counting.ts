import { pipeline, type Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { SourceManifest } from '@backupctl/plugin-api';
import { CopyRowCounter } from './copy-row-counter.js';
import { ArchiveTocReader } from './custom-archive-toc.js';
import type { DumpSnapshot } from './dump-snapshot.js';
import { plainDumpTables } from './plain-dump-tables.js';

/** The manifest's tables and how they were counted; without `tables`, `countedBy` says why. */
export type CountedTables = Pick<SourceManifest, 'tables' | 'rowCounts' | 'countedBy'>;

/** How a dump's tables are counted while it is taken. */
export interface TableCounting {
  /** pg_dump's arguments, from the user's, with what the counting needs. */
  dumpArgs(args: readonly string[]): string[];
  /** pg_dump's output, watched as it passes: what the pipeline reads instead. */
  watch(output: Readable): Readable;
  /** Once pg_dump succeeded: the tables, or why there are none. Never rejects. */
  counted(): Promise<CountedTables>;
  /** Frees what the counting holds (a transaction). Safe to call twice. */
  release(): Promise<void>;
}

/** Puts `watcher` after pg_dump's output, and tells when it has seen all of it. */
function watchThrough(watcher: NodeJS.ReadWriteStream & Readable) {
  let seen: Promise<void> = Promise.reject(new Error("pg_dump's output was not read"));
  seen.catch(() => {});
  return {
    watch(output: Readable): Readable {
      // The last bytes may still be on their way when pg_dump has exited: count only once they passed.
      seen = finished(watcher, { readable: false });
      seen.catch(() => {});
      // pipeline: an error or a destroy on either side reaches the other (and so pg_dump).
      return pipeline(output, watcher, () => {});
    },
    seen: () => seen,
  };
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A plain dump: its tables and rows read from its own bytes as they stream
 * past (CopyRowCounter), no query; `excluded` (the tables of extensions)
 * left out, as countRows leaves them out.
 */
export function countInPlainDump(excluded: ReadonlySet<string> = new Set()): TableCounting {
  const counter = new CopyRowCounter();
  const { watch, seen } = watchThrough(counter);
  return {
    dumpArgs: (args) => [...args],
    watch,
    async counted() {
      try {
        await seen();
      } catch (error) {
        return { countedBy: `not counted: ${reason(error)}` };
      }
      if (counter.failure !== undefined) return { countedBy: `not counted: the dump could not be read (${counter.failure.message})` };
      const result = plainDumpTables(counter.contents, excluded);
      if ('unknown' in result) return { countedBy: `not counted: ${result.unknown}` };
      const byInserts = counter.contents.loads.some((load) => load.via === 'insert');
      return {
        tables: result.tables,
        rowCounts: 'exact',
        countedBy: byInserts ? "counted in the dump's INSERT statements" : "counted in the dump's COPY blocks",
      };
    },
    release: async () => {},
  };
}

/**
 * A custom-format archive, whose rows are compressed: its tables are read
 * from its table of contents as it streams past, and their rows counted
 * (`count(*)`) in the snapshot pg_dump dumps, while pg_dump runs. Exact, at
 * the cost of one more read of every table. `snapshot` is what sharing the
 * snapshot failed with, when it did: the dump then goes ahead uncounted.
 */
export function countInDumpSnapshot(snapshot: DumpSnapshot | { failed: unknown }, signal: AbortSignal): TableCounting {
  const reader = new ArchiveTocReader();
  const { watch, seen } = watchThrough(reader);
  const release = () => ('failed' in snapshot ? Promise.resolve() : snapshot.release());
  // The transaction (and the locks it took to count) ends as soon as the
  // counts are in: pg_dump imported the snapshot before it wrote the TOC.
  const counting =
    'failed' in snapshot
      ? Promise.reject(new Error(`the dump's snapshot could not be shared: ${reason(snapshot.failed)}`))
      : reader.toc.then((entries) => snapshot.countTables(entries, signal)).finally(release);
  counting.catch(() => {});
  return {
    dumpArgs: (args) => ('failed' in snapshot ? [...args] : snapshot.dumpArgs(args)),
    watch,
    async counted() {
      try {
        await seen();
        return { tables: await counting, rowCounts: 'exact', countedBy: "count(*) in the dump's snapshot (one extra scan)" };
      } catch (error) {
        return { countedBy: `not counted: ${reason(error)}` };
      }
    },
    release,
  };
}
