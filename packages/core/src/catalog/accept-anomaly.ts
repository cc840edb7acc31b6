import { BackupctlError, ErrorCodes } from '@backupctl/plugin-api';
import type { LoadedJob } from '../plugins/loaded-job.js';
import type { InstanceEnvironment } from '../plugins/create-instance.js';
import { expandStoredJob } from '../parts/expand-job.js';
import { acceptAnomaly, readOpenAnomalies, type AnomalyRecord } from './anomaly-records.js';
import { withCopyStores } from './open-store.js';

/**
 * `backupctl accept <job> <key>`: accepts the anomaly flag on one backup
 * (the key as `ls` prints it, or its name under the job's prefix), so
 * retention stops holding older backups for it: in every copy that flagged
 * it (each copy's run guards its own store). For a whole-server job, the
 * part whose stores hold the flag. Refuses, listing the open flags, when
 * no copy of the job has an open flag on that key.
 */
export async function acceptJobAnomaly(
  job: LoadedJob,
  key: string,
  environment: Omit<InstanceEnvironment, 'artifact'> & { now?: Date },
): Promise<AnomalyRecord> {
  const open = new Set<string>();
  const at = environment.now ?? new Date();
  for (const part of (await expandStoredJob(job, environment)) ?? [job]) {
    const accepted = await withCopyStores(part, environment, async (copies) => {
      const found: AnomalyRecord[] = [];
      for (const { store } of copies) {
        const flags = await readOpenAnomalies(store, part.name, environment.signal);
        // The key as written, or its name under this copy's prefix (`ls` prints the first copy's key).
        const name = copies.map((other) => other.store.prefix).find((prefix) => prefix && key.startsWith(prefix));
        const wanted = new Set([key, `${store.prefix}${key}`, ...(name ? [`${store.prefix}${key.slice(name.length)}`] : [])]);
        const flag = flags.find((candidate) => wanted.has(candidate.key));
        if (flag) found.push((await acceptAnomaly(store, part.name, flag.key, at, environment.signal))!);
        else for (const other of flags) open.add(other.key);
      }
      return found[0];
    });
    if (accepted) {
      environment.logger.info(`${part.title}: accepted the anomaly of ${accepted.key} (${accepted.reasons.join('; ')}); retention no longer holds older backups for it`);
      return accepted;
    }
  }
  throw new BackupctlError(ErrorCodes.USAGE, `job ${job.name} has no open anomaly flag on ${key}`, {
    job: job.name,
    hint: open.size ? `open flags: ${[...open].join(', ')}` : `the job has no open anomaly flag (backupctl ls --job ${job.name} marks flagged backups)`,
  });
}
