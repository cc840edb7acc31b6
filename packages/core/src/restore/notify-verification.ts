import type { Verification, Store } from '@backupctl/plugin-api';
import type { LoadedJob } from '../plugins/loaded-job.js';
import { withInstances } from '../plugins/lifecycle.js';
import type { RestoreEnvironment } from './restore-job.js';

/** How long one hook may take to report a verification. */
const NOTIFY_TIMEOUT_MS = 30_000;

/**
 * A verification outside a run (`backupctl verify`, `serve
 * --verify-schedule`) reaches the job's hooks' afterVerify, as a run's
 * result reaches afterCommit or onError: notifiers report it. A hook that
 * fails or hangs is a warning; the verification's result stands.
 */
export async function notifyVerification(
  job: LoadedJob,
  store: Store,
  extension: string,
  verification: Verification,
  environment: RestoreEnvironment & { signal: AbortSignal },
): Promise<void> {
  const { logger } = environment;
  try {
    await withInstances(job, job.hooks, 'hook', environment, async (hooks) => {
      for (const [index, hook] of hooks.entries()) {
        if (!hook.afterVerify) continue;
        // Each hook has its own time, and is not waited for past it even when it ignores its signal.
        const signal = AbortSignal.timeout(NOTIFY_TIMEOUT_MS);
        const run = { job: job.name, title: job.title, nameTemplate: job.nameTemplate, extension, store, logger, signal, now: new Date(verification.verifiedAt), verification };
        await raceTimeout(hook.afterVerify(run), signal).catch((error: unknown) => {
          logger.warn(`${job.hooks[index]!.use} afterVerify failed: ${(error as Error).message}`);
        });
      }
    });
  } catch (error) {
    logger.warn(`${job.title}: the hooks could not be told about the verification of ${verification.key}: ${(error as Error).message}`);
  }
}

function raceTimeout(work: Promise<void>, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(new Error(`no answer within ${NOTIFY_TIMEOUT_MS / 1000} s`));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
