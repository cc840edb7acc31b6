import type { LoadedJob } from '../plugins/loaded-job.js';
import { expandStoredJob, refuseKeyForParts } from '../parts/expand-job.js';
import { restoreJob, type RestoredBackup, type RestoreJobOptions } from './restore-job.js';
import { jobReadFrom } from './read-copies.js';

/**
 * Whole servers: `backupctl restore <job>` of a job whose source stands for
 * several databases restores every part the store holds, in the source's
 * order (globals first, then each database), each from its own newest
 * backup, or its newest at or before `--at`. `--target-url` names the
 * target server; the source plugin puts each database in the database of
 * its name there. Stops at the first part that fails (the parts restored
 * before it stay). Undefined when the job does not expand: restore it as one.
 */
export async function restoreExpandedJob(job: LoadedJob, options: RestoreJobOptions): Promise<RestoredBackup[] | undefined> {
  const signal = options.signal ?? new AbortController().signal;
  // Each part is read from its copies as one job is (restoreJob), `--from` already applied.
  const parts = await expandStoredJob(jobReadFrom(job, options.from), { logger: options.logger, secrets: options.secrets, signal });
  if (!parts) return undefined;
  refuseKeyForParts(job, parts, options.selection);
  options.logger.info(`${job.title}: restoring ${parts.length} parts: ${parts.map((part) => part.name).join(', ')}`);
  const restored: RestoredBackup[] = [];
  for (const part of parts) restored.push(await restoreJob(part, { ...options, from: undefined, signal }));
  return restored;
}
