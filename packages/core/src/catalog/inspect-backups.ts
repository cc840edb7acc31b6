import type { Verification } from '@backupctl/plugin-api';
import type { LoadedJob } from '../plugins/loaded-job.js';
import type { InstanceEnvironment } from '../plugins/create-instance.js';
import { expandStoredJob, refuseKeyForParts } from '../parts/expand-job.js';
import { readAnomaly, type AnomalyRecord } from './anomaly-records.js';
import { readBackupRecord, type BackupRecord } from './backup-records.js';
import type { BackupSelection } from './backup-selection.js';
import { chooseInCopies } from './copy-selection.js';
import { jobExtension } from './job-extension.js';
import { readManifest, type ManifestRecord } from './manifest-records.js';
import { withCopyStores } from './open-store.js';
import { readVerification } from './verification-records.js';

/** Everything backupctl recorded about one backup. */
export interface InspectedBackup {
  job: string;
  title: string;
  location: string;
  key: string;
  size: number;
  time?: Date;
  /** The checksum record (size and SHA-256 at backup time). */
  record?: BackupRecord;
  /** What it holds, when its source gave a manifest. */
  manifest?: ManifestRecord;
  /** Its last verification. */
  verification?: Verification;
  /** The anomaly guard's flag on it, accepted or not. */
  anomaly?: AnomalyRecord;
}

/**
 * `backupctl inspect`: the chosen backup (newest unless `--key`/`--at`) and
 * its records: checksum, manifest, last verification, anomaly flag. A
 * whole-server job gives one per part found in its store.
 */
export async function inspectBackups(
  job: LoadedJob,
  selection: BackupSelection,
  environment: Omit<InstanceEnvironment, 'artifact'>,
): Promise<InspectedBackup[]> {
  const parts = await expandStoredJob(job, environment);
  if (parts) refuseKeyForParts(job, parts, selection);
  const inspected: InspectedBackup[] = [];
  for (const part of parts ?? [job]) inspected.push(await inspectOne(part, selection, environment));
  return inspected;
}

/** The chosen backup as the first copy holding it has it, with that copy's records (restore reads that copy first). */
async function inspectOne(job: LoadedJob, selection: BackupSelection, environment: Omit<InstanceEnvironment, 'artifact'>): Promise<InspectedBackup> {
  const extension = await jobExtension(job, environment);
  const { signal } = environment;
  return withCopyStores(job, environment, async (copies) => {
    // chooseInCopies finds at least one holder, or throws.
    const { store, backup } = (await chooseInCopies(copies, { ...job, extension }, environment.logger, selection, signal))[0]!;
    const [record, manifest, verification, anomaly] = await Promise.all([
      readBackupRecord(store, backup.key, signal),
      readManifest(store, backup.key, signal),
      readVerification(store, backup.key, signal),
      readAnomaly(store, backup.key, signal),
    ]);
    return { job: job.name, title: job.title, location: store.location, key: backup.key, size: backup.size, time: backup.time, record, manifest, verification, anomaly };
  });
}
