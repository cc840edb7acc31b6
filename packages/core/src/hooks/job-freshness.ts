import type { LoadedJob } from '../plugins/loaded-job.js';
import type { InstanceEnvironment } from '../plugins/create-instance.js';
import { jobExtension } from '../catalog/job-extension.js';
import { withCopyStores } from '../catalog/open-store.js';
import { findLastBackup } from './last-backup.js';
import { namingOf } from './job-backups.js';
import { expandJob } from '../parts/expand-job.js';
// A public helper of @backupctl/core (exported from src/index.ts).

/** How old a job's backups are, as `serve`'s staleness check sees them. */
export interface JobFreshness {
  /**
   * The newest backup of the copy that is furthest behind among the
   * required ones (a copy that failed its last runs makes the job stale
   * even when another copy is current); undefined when one holds none.
   */
  lastBackupAt?: Date;
  /** That copy's name. */
  copy?: string;
  /** A whole-server job: the database (part) furthest behind. */
  part?: string;
}

/**
 * Reads, in each of the job's required copies, when its newest backup
 * finished (as respawn does: the job's record, else the object names), and
 * answers with the oldest of those; for a whole-server job, the oldest over
 * the databases the server has. Rejects when a store (or, for a whole
 * server, the database server) cannot be read.
 */
export async function readJobFreshness(job: LoadedJob, environment: Omit<InstanceEnvironment, 'artifact'>): Promise<JobFreshness> {
  // A whole server: each database the server has now (one dropped since is not waited for), the one furthest behind.
  const parts = await expandJob(job, environment);
  if (!parts) return readCopiesFreshness(job, environment);
  let furthestBehind: JobFreshness | undefined;
  for (const part of parts) {
    const freshness = { ...(await readCopiesFreshness(part, environment)), part: part.name };
    if (!freshness.lastBackupAt) return freshness;
    if (!furthestBehind?.lastBackupAt || freshness.lastBackupAt < furthestBehind.lastBackupAt) furthestBehind = freshness;
  }
  return furthestBehind ?? {};
}

async function readCopiesFreshness(job: LoadedJob, environment: Omit<InstanceEnvironment, 'artifact'>): Promise<JobFreshness> {
  const extension = await jobExtension(job, environment);
  const naming = namingOf({ job: job.name, nameTemplate: job.nameTemplate, extension });
  return withCopyStores(job, environment, async (copies) => {
    let furthestBehind: JobFreshness | undefined;
    for (const { copy, store } of copies.filter((open) => open.copy.required)) {
      const last = await findLastBackup(store, naming, environment.logger, environment.signal);
      if (!last) return { copy: copy.name };
      if (!furthestBehind?.lastBackupAt || last.time < furthestBehind.lastBackupAt) furthestBehind = { lastBackupAt: last.time, copy: copy.name };
    }
    return furthestBehind ?? {};
  });
}
