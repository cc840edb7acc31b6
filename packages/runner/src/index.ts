/**
 * @backupctl/runner: the library the CLI is a thin wrapper over. Plugin
 * authors import the contract from @backupctl/plugin-api instead.
 */
export { loadPipeline, selectJobs, type LoadOptions, type LoadedJob, type LoadedPipeline, type LoadedStep } from './config/load-pipeline.js';
export { ConfigError, type ConfigIssue } from './config/config-error.js';
export { defaultPipelinePath } from './config/find-pipeline.js';
export { runPipeline, type RunPipelineOptions, type RunSummary } from './engine/run-pipeline.js';
export { runJob, type JobProgress, type JobResult, type JobStatus } from './engine/run-job.js';
export { createLogger, formatLogTime, withLogFields, type LogFormat, type LoggerOptions } from './engine/logger.js';
export { formatTimestamp, parseObjectTimestamp, renderObjectName } from './engine/object-name.js';
export { runnerVersion } from './package-info.js';
export { openStore, withStore } from './engine/open-store.js';
export { listBackups, type BackupEntry, type JobBackups } from './engine/list-backups.js';
export { backupNameMatcher, type BackupNaming } from './engine/backup-name-matcher.js';
export { backupListItems, formatBackupList, NO_BACKUPS, type BackupListItem } from './engine/format-backup-list.js';
export { formatRestoreHelp, formatWholeServerRestoreHelp, type RestoreHelpOptions } from './engine/restore-help.js';
export { createInstance, emptyArtifactInfo, type InstanceEnvironment } from './engine/create-instance.js';
export {
  checksumDocument,
  jobRecordDocument,
  LAST_BACKUP,
  readBackupRecord,
  readJobRecord,
  recordBackup,
  type BackupRecord,
} from './engine/backup-records.js';
export { pruneJobs, type PruneOptions, type PruneResult } from './engine/prune-jobs.js';
export { default as respawnHook, checkRespawn, respawnSchema } from './hooks/respawn.js';
export { findLastBackup, type LastBackup } from './hooks/last-backup.js';
export {
  default as retentionHook,
  applyRetention,
  retentionSchema,
  type RetentionOptions,
  type RetentionOutcome,
  type RetentionPass,
} from './hooks/retention.js';
export { hasRetentionRule, selectExpired, type DatedBackup, type RetentionRules } from './hooks/retention-policy.js';
export { listJobBackups, type JobBackupScan } from './engine/job-backups.js';
export { flagSchema, parseFlag } from './hooks/flag.js';
export { chooseBackup, parseAt, pickBackup, type BackupSelection, type ChosenBackup } from './engine/backup-selection.js';
export { ChecksumVerifier, type ExpectedChecksum } from './engine/checksum-verifier.js';
export {
  describeRestored,
  restoreBackup,
  restoreJob,
  withRestoreStages,
  type RestoredBackup,
  type RestoreEnvironment,
  type RestoreJobOptions,
  type RestoreStages,
} from './engine/restore-job.js';
export { verifyExpandedJob, verifyJob, type ExpandedVerifyOutcome, type VerifyJobOptions, type VerifyOutcome } from './engine/verify-job.js';
// Whole servers: a source standing for several databases runs, restores and lists as one sub-job per part.
export { expandJob, expandStoredJob, type ExpandEnvironment } from './engine/expand-job.js';
export { restoreExpandedJob } from './engine/restore-expanded.js';
export { compareRowCounts, formatComparison, type TableComparison } from './engine/row-count-comparison.js';
// The health server, metrics and scheduler: '@backupctl/runner/server' (they load prom-client and croner).
export { default as webhookHook, postWebhook, webhookSchema, type PostOptions, type WebhookPayload } from './hooks/webhook.js';
export { listPipelinePlugins, type PipelinePlugin, type PipelinePlugins } from './engine/pipeline-plugins.js';
export { formatOptionsTable, formatPluginList, pluginsAreUsable } from './engine/format-plugin-list.js';
