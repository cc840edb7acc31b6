import type { Lifecycle, Logger, PluginInstances, PluginKind } from '@backupctl/plugin-api';
import { createInstance, emptyArtifactInfo, type InstanceEnvironment } from './create-instance.js';
import type { LoadedJob, LoadedStep } from './loaded-job.js';

/** An instance made from a step, as the lifecycle tracks it for closing. */
export interface OpenedInstance {
  step: Pick<LoadedStep, 'use'>;
  instance: Lifecycle;
}

/**
 * Closes what was opened, last first, passing the failure (if any) so a
 * stage can roll back. The one rule for a close that fails: a warning, never
 * an error, so it cannot hide the job's own result or its first error.
 */
export async function closeInReverse(opened: readonly OpenedInstance[], failure: unknown, logger: Logger): Promise<void> {
  for (const { step, instance } of [...opened].reverse()) {
    try {
      await instance.close?.(failure);
    } catch (error) {
      logger.warn(`${step.use} close failed: ${(error as Error).message}`);
    }
  }
}

/**
 * Creates the steps' instances in order, hands them to `use`, then closes
 * every instance created (also when creating one failed): create, use,
 * close in reverse, for commands that need a job's plugins outside a run.
 */
export async function withInstances<K extends PluginKind, T>(
  job: LoadedJob,
  steps: readonly LoadedStep[],
  kind: K,
  environment: Omit<InstanceEnvironment, 'artifact'> & Partial<Pick<InstanceEnvironment, 'artifact'>>,
  use: (instances: PluginInstances[K][]) => Promise<T>,
): Promise<T> {
  const opened: OpenedInstance[] = [];
  const instances: PluginInstances[K][] = [];
  const created = { ...environment, artifact: environment.artifact ?? emptyArtifactInfo() };
  let failure: unknown;
  try {
    for (const step of steps) {
      const instance = await createInstance(job, step, kind, created);
      opened.push({ step, instance });
      instances.push(instance);
    }
    return await use(instances);
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    await closeInReverse(opened, failure, environment.logger);
  }
}
