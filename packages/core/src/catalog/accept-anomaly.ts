import { BackupctlError, ErrorCodes } from '@backupctl/plugin-api';
import type { LoadedJob } from '../plugins/loaded-job.js';
import type { InstanceEnvironment } from '../plugins/create-instance.js';
import { expandStoredJob } from '../parts/expand-job.js';
import { acceptAnomaly, readOpenAnomalies, type AnomalyRecord } from './anomaly-records.js';
import { withStore } from './open-store.js';

/**
 * `backupctl accept <job> <key>`: accepts the anomaly flag on one backup
 * (the key as `ls` prints it, or its name under the job's prefix), so
 * retention stops holding older backups for it. For a whole-server job, the
 * part whose store holds the flag. Refuses, listing the open flags, when
 * the job has no open flag on that key.
 */
export async function acceptJobAnomaly(
  job: LoadedJob,
  key: string,
  environment: Omit<InstanceEnvironment, 'artifact'> & { now?: Date },
): Promise<AnomalyRecord> {
  const open: string[] = [];
  for (const part of (await expandStoredJob(job, environment)) ?? [job]) {
    const accepted = await withStore(part, environment, async (store) => {
      for (const candidate of new Set([key, `${store.prefix}${key}`])) {
        const flag = await acceptAnomaly(store, part.name, candidate, environment.now ?? new Date(), environment.signal);
        if (flag) return flag;
      }
      open.push(...(await readOpenAnomalies(store, part.name, environment.signal)).map((flag) => flag.key));
      return undefined;
    });
    if (accepted) {
      environment.logger.info(`${part.title}: accepted the anomaly of ${accepted.key} (${accepted.reasons.join('; ')}); retention no longer holds older backups for it`);
      return accepted;
    }
  }
  throw new BackupctlError(ErrorCodes.USAGE, `job ${job.name} has no open anomaly flag on ${key}`, {
    job: job.name,
    hint: open.length ? `open flags: ${open.join(', ')}` : `the job has no open anomaly flag (backupctl ls --job ${job.name} marks flagged backups)`,
  });
}
