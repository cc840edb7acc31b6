import {
  BackupctlError,
  callPlugin,
  ErrorCodes,
  FAILURE_CODE,
  type ArtifactInfo,
  type Logger,
  type PluginContext,
  type PluginInstances,
  type PluginKind,
  type Secrets,
} from '@backupctl/plugin-api';
import type { LoadedJob, LoadedStep } from './loaded-job.js';

export interface InstanceEnvironment {
  logger: Logger;
  secrets: Secrets;
  signal: AbortSignal;
  /** Shared by the stages of one job, in pipeline order. */
  artifact: ArtifactInfo;
}

/** Calls a step's plugin `create` with its validated options; whatever it throws is wrapped with the plugin's name. */
export async function createInstance<K extends PluginKind>(
  job: LoadedJob,
  step: LoadedStep | undefined,
  kind: K,
  environment: InstanceEnvironment,
): Promise<PluginInstances[K]> {
  if (!step) throw new BackupctlError(ErrorCodes.CONFIG_INVALID, `job ${job.name} has no valid ${kind}`, { job: job.name });
  const context: PluginContext = {
    job: job.name,
    use: step.use,
    logger: environment.logger,
    signal: environment.signal,
    artifact: environment.artifact,
    secrets: environment.secrets,
  };
  const instance = await callPlugin({ code: FAILURE_CODE[kind], job: job.name, plugin: step.use, hook: 'create' }, () =>
    step.plugin.create(step.options as never, context),
  );
  return instance as PluginInstances[K];
}

/** A fresh artifact bag: what a job's stages fill in. */
export function emptyArtifactInfo(): ArtifactInfo {
  return { extension: '', contentType: 'application/octet-stream' };
}
