import type { LoadedJob } from '../plugins/loaded-job.js';
import { emptyArtifactInfo, type InstanceEnvironment } from '../plugins/create-instance.js';
import { withInstances } from '../plugins/lifecycle.js';

/**
 * The extension the job's stages give its objects (`.sql.gz`), for commands
 * that read its backups without running it (ls, prune): its source and
 * transforms are created, as a run creates them, and closed again. Undefined
 * when one of them is not configured here or cannot be created (a job
 * skipped for want of its database): then only backupctl's records tell
 * the job's backups (listJobBackups).
 */
export async function jobExtension(job: LoadedJob, environment: Omit<InstanceEnvironment, 'artifact'>): Promise<string | undefined> {
  if (!job.source) return undefined;
  const artifact = emptyArtifactInfo();
  try {
    await withInstances(job, [job.source], 'source', { ...environment, artifact }, () =>
      withInstances(job, job.transforms, 'transform', { ...environment, artifact }, async () => undefined),
    );
    return artifact.extension;
  } catch {
    return undefined;
  }
}
