import type { Verification } from '@backupctl/plugin-api';
import type { LoadedJob } from '../plugins/loaded-job.js';
import { verificationNotification } from '../notify/job-notifications.js';
import { notifyJob } from '../notify/job-notifiers.js';
import type { RestoreEnvironment } from './restore-job.js';

/**
 * A verification outside a run (`backupctl verify`, `serve
 * --verify-schedule`) reaches the job's notifiers as `verified` or
 * `verify-failed`, as a run's result reaches them as `success` or
 * `failure`. A notifier that fails or hangs is a warning; the
 * verification's result stands.
 */
export async function notifyVerification(job: LoadedJob, verification: Verification, environment: RestoreEnvironment & { signal: AbortSignal }): Promise<void> {
  await notifyJob(job, verificationNotification(job, verification), environment);
}
