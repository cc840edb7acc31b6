import type { LoadedJob } from '../config/load-pipeline.js';
import { createInstance, emptyArtifactInfo, type InstanceEnvironment } from '../plugins/create-instance.js';

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
  const created = [];
  try {
    for (const [step, kind] of [[job.source, 'source'], ...job.transforms.map((step) => [step, 'transform'] as const)] as const) {
      created.push(await createInstance(job, step, kind, { ...environment, artifact }));
    }
    return artifact.extension;
  } catch {
    return undefined;
  } finally {
    for (const instance of created.reverse()) await Promise.resolve(instance.close?.()).catch(() => undefined);
  }
}
