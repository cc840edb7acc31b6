import type { Logger, SourceManifest } from '@backupctl/plugin-api';
import type { TableCounting } from './table-counting.js';

/** What the source knows of a finished dump. */
export interface DumpFacts {
  /** The server's version, e.g. `15.18`. */
  serverVersion: string;
  /** The program and its version, e.g. `pg_dump 15.18`. */
  dumpTool: string;
  databaseSize?: number;
  format: string;
  /** How its tables were counted; none for a dump without tables (a whole server's globals). */
  counting?: TableCounting;
  logger: Logger;
}

/** The manifest of a dump pg_dump finished: its facts, and its tables when they could be counted (a warning says why not). */
export async function backupManifest(facts: DumpFacts): Promise<SourceManifest> {
  const counted = facts.counting === undefined ? {} : await facts.counting.counted();
  if (facts.counting !== undefined && counted.tables === undefined) {
    facts.logger.warn(`The backup's manifest has no row counts: ${counted.countedBy}`);
  }
  return {
    engine: 'PostgreSQL',
    serverVersion: facts.serverVersion,
    dumpTool: facts.dumpTool,
    ...(facts.databaseSize === undefined ? {} : { databaseSize: facts.databaseSize }),
    format: facts.format,
    ...counted,
  };
}
