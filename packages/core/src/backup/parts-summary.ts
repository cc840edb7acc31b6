import path from 'node:path';
import { formatSize, type Logger } from '@backupctl/plugin-api';
import type { LoadedJob } from '../plugins/loaded-job.js';
import type { JobResult } from './run-job.js';

/**
 * A whole-server job's summary, once its parts ended: a count line, then
 * one line per part in the parts' order, whatever order they finished in
 * (with concurrency their own lines interleave).
 *
 * ```
 * Main server: 4 parts: 3 backed up, 1 skipped, 0 failed
 * Main server / globals: backed up globals_20260201_030000.sql.gz (1.2 KB)
 * Main server / crm: skipped (last backup 2026-02-01 02:10:00 UTC ...)
 * ```
 */
export function logPartsSummary(job: LoadedJob, results: readonly JobResult[], logger: Logger): void {
  const count = (status: JobResult['status']) => results.filter((result) => result.status === status).length;
  const failed = count('failed');
  const line = `${job.title}: ${results.length} parts: ${count('succeeded')} backed up, ${count('skipped')} skipped, ${failed} failed`;
  const fields = { job: job.name, event: 'parts-summary' };
  if (failed) logger.error(line, fields);
  else logger.info(line, fields);
  for (const result of results) logger.info(`${job.title} / ${result.job}: ${describe(result)}`, { ...fields, part: result.job, result: result.status });
}

function describe(result: JobResult): string {
  if (result.status === 'succeeded' && result.artifact) return `backed up ${path.posix.basename(result.artifact.key)} (${formatSize(result.artifact.size)})`;
  if (result.status === 'skipped') return `skipped (${result.reason ?? 'no reason given'})`;
  return `failed: ${result.error?.message ?? 'unknown error'}`;
}
