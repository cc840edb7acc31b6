/**
 * @backupctl/runner: the plugin API (what plugin authors import) and the
 * library the CLI is a thin wrapper over.
 */
export * from './api/index.js';
export { loadPipeline, selectJobs, type LoadOptions, type LoadedJob, type LoadedPipeline, type LoadedStep } from './config/load-pipeline.js';
export { ConfigError, type ConfigIssue } from './config/config-error.js';
export { defaultPipelinePath } from './config/find-pipeline.js';
export { runPipeline, type RunPipelineOptions, type RunSummary } from './engine/run-pipeline.js';
export { runJob, type JobResult, type JobStatus } from './engine/run-job.js';
export { createLogger, formatLogTime } from './engine/logger.js';
export { Secrets } from './engine/redact.js';
export { formatSize } from './engine/format-size.js';
export { formatTimestamp, parseObjectTimestamp, renderObjectName } from './engine/object-name.js';
export { runnerVersion } from './package-info.js';
export { openStore } from './engine/open-store.js';
export { createInstance, emptyArtifactInfo, type InstanceEnvironment } from './engine/create-instance.js';
export {
  checksumDocument,
  LAST_BACKUP,
  readBackupRecord,
  readLastBackups,
  recordBackup,
  type BackupRecord,
} from './engine/backup-records.js';
