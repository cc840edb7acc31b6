import { ErrorCodes, wrapError, type PluginKind } from '@backupctl/plugin-api';
import { copiesOf, type LoadedJob, type LoadedStep } from './loaded-job.js';
import { closeInReverse } from './lifecycle.js';
import { createInstance, emptyArtifactInfo, type InstanceEnvironment } from './create-instance.js';

/** One step's answer to `check()`. */
export interface StepCheck {
  step: LoadedStep;
  /** False when the plugin has no check (nothing to reach). */
  checked: boolean;
  /** Why it could not reach what it needs, as the one line a failed run would print. */
  error?: string;
}

/**
 * `validate --connect`: each step of the job is created and asked to reach
 * what it needs (its `check()`: the database, the bucket, a program),
 * then closed. Nothing is read or written. Steps are checked one by one so
 * each answer names its own step.
 */
export async function checkJob(job: LoadedJob, environment: Omit<InstanceEnvironment, 'artifact'>): Promise<StepCheck[]> {
  const steps: [LoadedStep | undefined, PluginKind][] = [
    [job.source, 'source'],
    ...job.transforms.map((step): [LoadedStep, PluginKind] => [step, 'transform']),
    // Every copy's sink: each must be reachable.
    ...copiesOf(job).map((copy): [LoadedStep, PluginKind] => [copy.sink, 'sink']),
  ];
  const checks: StepCheck[] = [];
  for (const [step, kind] of steps) {
    if (!step) continue;
    let instance;
    try {
      instance = await createInstance(job, step, kind, { ...environment, artifact: emptyArtifactInfo() });
      if (!instance.check) {
        checks.push({ step, checked: false });
        continue;
      }
      await instance.check();
      checks.push({ step, checked: true });
    } catch (error) {
      checks.push({ step, checked: true, error: wrapError(error, { code: ErrorCodes.CONFIG_INVALID, job: job.name, plugin: step.use, hook: 'check' }).message });
    } finally {
      if (instance) await closeInReverse([{ step, instance }], undefined, environment.logger);
    }
  }
  return checks;
}
