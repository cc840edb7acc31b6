import { BackupctlError, ErrorCodes, type SinkInstance } from '@backupctl/plugin-api';
import { copiesOf, type LoadedJob } from '../plugins/loaded-job.js';
import type { OpenCopy } from './copy-selection.js';
import { closeInReverse } from '../plugins/lifecycle.js';
import { createInstance, emptyArtifactInfo, type InstanceEnvironment } from '../plugins/create-instance.js';

/**
 * The store behind a job's sink, for commands that read backups without
 * running the job (ls, restore-help, restore, verify). Close it when done.
 * A job skipped for want of its database still has its store.
 */
export async function openStore(job: LoadedJob, environment: Omit<InstanceEnvironment, 'artifact'>): Promise<SinkInstance> {
  if (!job.sink) {
    throw new BackupctlError(ErrorCodes.CONFIG_INVALID, `job ${job.name}: its sink is not configured here`, {
      job: job.name,
      hint: 'check the sink options and the environment variables they use (backupctl validate)',
    });
  }
  return createInstance(job, job.sink, 'sink', { ...environment, artifact: emptyArtifactInfo() });
}

/**
 * Opens the job's store, runs `use` with it and closes it whatever happened
 * (a failing close is a warning: closeInReverse).
 */
export async function withStore<T>(
  job: LoadedJob,
  environment: Omit<InstanceEnvironment, 'artifact'>,
  use: (store: SinkInstance) => Promise<T>,
): Promise<T> {
  const store = await openStore(job, environment);
  let failure: unknown;
  try {
    return await use(store);
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    await closeInReverse([{ step: job.sink!, instance: store }], failure, environment.logger);
  }
}

/**
 * Opens the store behind every copy of the job (its one sink, or each of
 * its `sinks:`), runs `use` with them in the job's order, and closes them
 * all whatever happened.
 */
export async function withCopyStores<T>(
  job: LoadedJob,
  environment: Omit<InstanceEnvironment, 'artifact'>,
  use: (copies: OpenCopy<SinkInstance>[]) => Promise<T>,
): Promise<T> {
  if (!job.sink) return withStore(job, environment, async () => use([])); // says what is missing
  const opened: OpenCopy<SinkInstance>[] = [];
  let failure: unknown;
  try {
    for (const copy of copiesOf(job)) {
      opened.push({ copy, store: await createInstance(job, copy.sink, 'sink', { ...environment, artifact: emptyArtifactInfo() }) });
    }
    return await use(opened);
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    await closeInReverse(opened.map(({ copy, store }) => ({ step: copy.sink, instance: store })), failure, environment.logger);
  }
}
